#!/bin/bash
# Session 24, call 9 (H200): the final table on ad18927 (GEMM v26b and v27): q4g128 at M = 1, 16, 128, 2048 with
# PyTorch's peers in the same call, and the other schemes at M = 128 (the GEMM's splits changed there).
source "$(dirname "$0")/common.sh"
date +%T; timeout 120 $KG bench --device cuda --m 1,16,128,2048 --schemes q4g128 --reps 30 --json $OUT/final-q4.json > $OUT/final-q4.txt 2>&1; echo "=== q4 rc $?"; t $OUT/final-q4.txt
date +%T; timeout 60 python3 .devbundle/torch_anchors.py > $OUT/final-torch-anchors.txt 2>&1; echo "=== anchors rc $?"; grep -E "copy|M=128|M=2048" $OUT/final-torch-anchors.txt | grep -v tinygemm
date +%T; timeout 90 $KG bench --device cuda --m 128 --schemes q4g128s,q8pcs,q3g128,q2g64 --reps 30 --json $OUT/final-m128-schemes.json > $OUT/final-m128-schemes.txt 2>&1; echo "=== m128 rc $?"; t $OUT/final-m128-schemes.txt
date +%T
