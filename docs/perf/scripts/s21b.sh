#!/bin/bash
# Session 21, call 2: the session's table with the read floor beside every case: q4g128 at M = 1, 16, 128, 2048 on the
# issue's four shapes, PyTorch's peers in the same call (do_bench).
source "$(dirname "$0")/common.sh"
date +%T; timeout 130 $KG bench --device cuda --m 1,16 --schemes q4g128 --reps 30 --json $OUT/final-small-batch.json > $OUT/final-small-batch.txt 2>&1; echo "=== final q4g128 rc $?"; t $OUT/final-small-batch.txt
date +%T; timeout 130 python3 .devbundle/torch_anchors.py > $OUT/final-torch-anchors.txt 2>&1; tail -22 $OUT/final-torch-anchors.txt
date +%T; timeout 170 $KG bench --device cuda --m 128,2048 --schemes q4g128 --reps 30 --json $OUT/final-gemm.json > $OUT/final-gemm.txt 2>&1; echo "=== final gemm rc $?"; t $OUT/final-gemm.txt
date +%T
