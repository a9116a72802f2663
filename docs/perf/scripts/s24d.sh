#!/bin/bash
# Session 24, call 4 (H200): what do short prefills (M = 64 … 512) pay for splitting K? q4g128 through the wgmma GEMM
# with the rule's splits (two blocks per SM: 8 on 4096² at M ≤ 128, 4 on 8192²), then KERNELGEN_GEMM_SPLITS = 1, 2, 4,
# 8, 16; then each launch's own duration under ncu (clocks left alone) at M = 128 on 4096², rule and splits 1.
source "$(dirname "$0")/common.sh"
r() { local name=$1; shift; date +%T; echo "=== $name" >> $OUT/splits.txt; env "$@" timeout 100 $KG bench --device cuda --m 64,128,512 --shapes 4096x4096,8192x8192 --schemes q4g128 --reps 30 > /tmp/$name.txt 2>&1; echo "=== $name rc $?"; t /tmp/$name.txt | tee -a $OUT/splits.txt; }
r rule X=1; r s1 KERNELGEN_GEMM_SPLITS=1; r s2 KERNELGEN_GEMM_SPLITS=2; r s4 KERNELGEN_GEMM_SPLITS=4; r s8 KERNELGEN_GEMM_SPLITS=8; r s16 KERNELGEN_GEMM_SPLITS=16
for sp in 0 1; do date +%T; KERNELGEN_GEMM_SPLITS=$sp timeout 90 ncu --clock-control none --launch-skip 4 --launch-count 12 --metrics gpu__time_duration.sum $KG bench --device cuda --m 128 --shapes 4096x4096 --schemes q4g128 --reps 3 --warmup 1 > /tmp/ncu$sp.txt 2>&1; echo "=== ncu splits=$sp rc $?" | tee -a $OUT/ncu.txt; grep -E "^  [A-Za-z_].*\(|gpu__time_duration" /tmp/ncu$sp.txt | paste - - | awk '{print $1, $(NF)}' | tee -a $OUT/ncu.txt; done
date +%T
