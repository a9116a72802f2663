#!/bin/bash
# Session 22, call 5: v42, x converted first for 3-bit codes from 16 MiB (was 32). q3g128 at M = 16 on the 3-bit
# shapes between 16 and 32 MiB of codes (8192², Llama-3-8B's 14336×4096 and 4096×14336): the new rule, x never
# converted first (KERNELGEN_GEMV_PREPAREX=0: the old rule on these shapes), the new rule again; M = 1 once.
source "$(dirname "$0")/common.sh"
r() { local name=$1 m=$2; shift 2; date +%T; env "$@" timeout 170 $KG bench --device cuda --m $m --shapes 8192x8192,14336x4096,4096x14336 --schemes q3g128 --reps 30 --json $OUT/$name.json > $OUT/$name.txt 2>&1; echo "=== $name rc $?"; t $OUT/$name.txt; }
r rule 1,16 X=1; r never 16 KERNELGEN_GEMV_PREPAREX=0; r rule2 16 X=1
date +%T
