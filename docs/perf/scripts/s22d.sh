#!/bin/bash
# Session 22, call 4: x converted by a first launch (KERNELGEN_GEMV_PREPAREX=1) at M = 16 where the rule does not do it
# (codes under 32 MiB: q4g128 4096², q2g64 and q3g128 on 4096² and 8192²), against the rule before and after; the
# committed build (2bd2bf8).
source "$(dirname "$0")/common.sh"
r() { local name=$1; shift; date +%T; env "$@" timeout 170 $KG bench --device cuda --m 16 --shapes 4096x4096,8192x8192 --schemes q4g128,q2g64,q3g128 --reps 30 --json $OUT/$name.json > $OUT/$name.txt 2>&1; echo "=== $name rc $?"; t $OUT/$name.txt; }
r rule X=1; r prepared KERNELGEN_GEMV_PREPAREX=1; r rule2 X=1
date +%T
