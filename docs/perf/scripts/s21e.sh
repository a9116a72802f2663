#!/bin/bash
# Needs docs/perf/scripts/s21-wide-all.patch applied (the knob KERNELGEN_GEMV_WIDE=all; reverted after this call).
# Session 21, call 5: 16-warp groups everywhere (KERNELGEN_GEMV_WIDE=all, an experiment's knob: one block of 16 warps
# per SM where two blocks of 8 share it now) against the rule, on 8192² and 28672×8192 (896 blocks, 3.4 waves of two
# blocks per SM; 6.8 of one), q4g128 and q2g64 at M = 1 and 16; then the weights' ring for q4g128 at M = 16 with x
# prepared (KERNELGEN_GEMV_STAGES=2), never timed since x came prepared (v28).
source "$(dirname "$0")/common.sh"
r() { local name=$1 shapes=$2 schemes=$3 m=$4; shift 4; date +%T; env "$@" timeout 120 $KG bench --device cuda --m $m --shapes $shapes --schemes $schemes --reps 30 --json $OUT/$name.json > $OUT/$name.txt 2>&1; echo "=== $name rc $?"; t $OUT/$name.txt; }
r rule 8192x8192,28672x8192 q4g128,q2g64 1,16 X=1
r wide 8192x8192,28672x8192 q4g128,q2g64 1,16 KERNELGEN_GEMV_WIDE=all
r rule2 8192x8192,28672x8192 q4g128,q2g64 1,16 X=1
r stages2 28672x8192,8192x28672 q4g128 16 KERNELGEN_GEMV_STAGES=2
date +%T
