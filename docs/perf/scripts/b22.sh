#!/bin/bash
# v34 rule check: q3g128 M = 1, 8, 16 by the new rule (M > 8 staged where blocks outnumber SMs); forced 2 stages at M = 1 (now with x through shared memory) and M = 8; scales after at M = 16 staged; q2g64 M = 1 rule vs staged.
source "$(dirname "$0")/common.sh"
S=8192x8192,28672x8192,8192x28672
r() { local name=$1; shift; env "$@" $KG bench --device cuda --shapes $S --reps 30 --json $OUT/$name.json $ARGS > /tmp/$name.txt 2>&1; echo "=== $name"; t /tmp/$name.txt; }
ARGS="--m 1,8,16 --schemes q3g128" r q3-rule X=1
ARGS="--m 1,8 --schemes q3g128" r q3-st2 KERNELGEN_GEMV_STAGES=2
ARGS="--m 16 --schemes q3g128" r q3-sa KERNELGEN_GEMV_SCALEAFTER=1
ARGS="--m 1 --schemes q2g64" r q2-rule X=1
ARGS="--m 1 --schemes q2g64" r q2-st2 KERNELGEN_GEMV_STAGES=2
