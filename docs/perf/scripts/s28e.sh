#!/bin/bash
# Session 28, call 5 (H200): the session's final build (group constants per unit pair in decode). M = 1 with --int8-x
# for q2g64, q3g128, q4g128, q4g128s; q3g128 at M = 2, 8, 16 likewise; PyTorch's peers in the same call.
source "$(dirname "$0")/common.sh"
date +%T; timeout 200 $KG bench --device cuda --m 1 --schemes q2g64,q3g128,q4g128,q4g128s --reps 30 --int8-x --json $OUT/x8-m1.json > $OUT/x8-m1.txt 2>&1; echo "=== x8 M=1 rc $?"; t $OUT/x8-m1.txt
date +%T; timeout 150 $KG bench --device cuda --m 2,8,16 --schemes q3g128 --reps 30 --int8-x --json $OUT/q3-batch.json > $OUT/q3-batch.txt 2>&1; echo "=== q3 batch rc $?"; t $OUT/q3-batch.txt
date +%T; timeout 150 python3 .devbundle/torch_anchors.py > $OUT/torch-anchors.txt 2>&1; echo "=== anchors rc $?"; grep -E "copy|M=1:" $OUT/torch-anchors.txt | head -12
date +%T
