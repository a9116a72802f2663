#!/bin/bash
# Session 22, call 6: would 2- and 4-bit codes between 16 and 32 MiB also gain from x converted first at M = 16?
# q4g128 and q2g64 on Llama-3-8B's 14336×4096 and 4096×14336 (28 and 14 MiB of codes): the rule (not converted),
# converted (KERNELGEN_GEMV_PREPAREX=1), the rule again.
source "$(dirname "$0")/common.sh"
r() { local name=$1; shift; date +%T; env "$@" timeout 75 $KG bench --device cuda --m 16 --shapes 14336x4096,4096x14336 --schemes q4g128,q2g64 --reps 30 --json $OUT/$name.json > $OUT/$name.txt 2>&1; echo "=== $name rc $?"; t $OUT/$name.txt; }
r rule X=1; r prepared KERNELGEN_GEMV_PREPAREX=1; r rule2 X=1
date +%T
