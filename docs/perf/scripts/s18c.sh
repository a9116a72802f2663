#!/bin/bash
# Session 18, call 3: PrepareKernel with a warp on 8 rows of one k-block (whole core matrices written), ncu as call 2;
# then the final table of the session with PyTorch's peers in the same call (call 2 lost its schemes to a 150 s timeout).
source "$(dirname "$0")/common.sh"
echo "=== ncu gemm 4096 M=2048"
timeout 100 ncu --launch-count 12 --metrics gpu__time_duration.sum $KG bench --device cuda --shapes 4096x4096 --m 2048 --schemes q4g128 --reps 3 --warmup 1 > /tmp/ncu.txt 2>&1
grep -E '^  [A-Za-z_].*\(|gpu__time_duration' /tmp/ncu.txt | paste - - | awk '{print $1, $(NF)}' | sed 's/(.*//' | tail -12; cp /tmp/ncu.txt $OUT/ncu-gemm-4096-m2048-prepare-v3.txt
timeout 120 $KG bench --device cuda --m 1,16 --schemes q4g128 --reps 30 --json $OUT/final-small-batch.json > /tmp/fsb.txt 2>&1; echo "=== final q4g128"; t /tmp/fsb.txt
timeout 300 $KG bench --device cuda --m 1,16 --schemes q4g128s,q8pcs,q3g128,q2g64 --reps 30 --json $OUT/final-schemes.json > /tmp/fs.txt 2>&1; echo "=== final schemes"; t /tmp/fs.txt
timeout 120 python3 .devbundle/torch_anchors.py > $OUT/final-torch-anchors.txt 2>&1; tail -22 $OUT/final-torch-anchors.txt
timeout 150 $KG bench --device cuda --m 128,2048 --schemes q4g128,q3g128 --reps 30 --json $OUT/final-gemm.json > /tmp/fg.txt 2>&1; echo "=== final gemm"; t /tmp/fg.txt
