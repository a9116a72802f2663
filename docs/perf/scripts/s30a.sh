#!/bin/bash
# Session 30, call 1 (H200): HEAD after session 29's review commit f2f79fb (one LoadX; the pair-sum shuffle only in
# batches' rounding), never timed on the device: int8 x at M = 1 and 16 for the four int8 schemes with errors, and
# PyTorch's peers in the same call.
source "$(dirname "$0")/common.sh"
date +%T; timeout 220 $KG bench --device cuda --m 1,16 --schemes q4g128,q4g128s,q3g128,q2g64 --int8-x --reps 30 --json $OUT/x8.json > $OUT/x8.txt 2>&1; echo "=== x8 rc $?"; t $OUT/x8.txt | grep -v -E "^empty"
date +%T; timeout 150 python3 .devbundle/torch_anchors.py > $OUT/torch-anchors.txt 2>&1; echo "=== anchors rc $?"; grep -E "copy|M=1:|M=16:" $OUT/torch-anchors.txt | head -20
date +%T
