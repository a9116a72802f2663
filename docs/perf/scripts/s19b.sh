#!/bin/bash
# Session 19, call 2: PrepareKernel v4 (hardware cvt.rn.f16x2.f32 on CUDA, loaded patched) under ncu as in s18c.sh;
# then the session's table: q4g128 at M = 1, 16, PyTorch's peers in the same call, and the GEMM at M = 128, 2048.
source "$(dirname "$0")/common.sh"
echo "=== ncu gemm 4096 M=2048"
timeout 100 ncu --launch-count 12 --metrics gpu__time_duration.sum $KG bench --device cuda --shapes 4096x4096 --m 2048 --schemes q4g128 --reps 3 --warmup 1 > /tmp/ncu.txt 2>&1
grep -E '^  [A-Za-z_].*\(|gpu__time_duration' /tmp/ncu.txt | paste - - | awk '{print $1, $(NF)}' | sed 's/(.*//' | tail -12; cp /tmp/ncu.txt $OUT/ncu-gemm-4096-m2048-prepare-v4.txt
timeout 120 $KG bench --device cuda --m 1,16 --schemes q4g128 --reps 30 --json $OUT/final-small-batch.json > $OUT/final-small-batch.txt 2>&1; echo "=== final q4g128"; t $OUT/final-small-batch.txt
timeout 120 python3 .devbundle/torch_anchors.py > $OUT/final-torch-anchors.txt 2>&1; tail -22 $OUT/final-torch-anchors.txt
timeout 150 $KG bench --device cuda --m 128,2048 --schemes q4g128,q3g128 --reps 30 --json $OUT/final-gemm.json > $OUT/final-gemm.txt 2>&1; echo "=== final gemm"; t $OUT/final-gemm.txt
