#!/bin/bash
# Grids of at most one block per SM (4096 or 1024 rows): does the 128-register cap (there for two blocks per SM) cost? q4g128, q2g64 M = 1, 16, rule vs KERNELGEN_GEMV_MAXNREG=0, rule again.
source "$(dirname "$0")/common.sh"
r() { local name=$1; shift; env "$@" $KG bench --device cuda --m 1,16 --shapes 1024x4096,4096x4096,4096x14336 --schemes q4g128,q2g64 --reps 30 --json $OUT/$name.json > /tmp/$name.txt 2>&1; echo "=== $name"; t /tmp/$name.txt; }
r small-rule-a X=1; r small-nocap KERNELGEN_GEMV_MAXNREG=0; r small-rule-b X=1
