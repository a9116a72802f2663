#!/bin/bash
# Session 28, call 3 (H200): the session's final build. q2g64 and q3g128 at M = 1, 2, 8, 16 with f16 x and with --int8-x
# (Int8ActivationGemv where Pays says so, batches of 2- and 3-bit codes new this session), q4g128 and q4g128s at M = 1,
# 8, 16 likewise, and PyTorch's peers in the same call.
source "$(dirname "$0")/common.sh"
date +%T; timeout 280 $KG bench --device cuda --m 1,2,8,16 --schemes q2g64,q3g128 --reps 30 --json $OUT/low-f16.json > $OUT/low-f16.txt 2>&1; echo "=== low f16 rc $?"; t $OUT/low-f16.txt
date +%T; timeout 200 $KG bench --device cuda --m 1,2,8,16 --schemes q2g64,q3g128 --reps 30 --int8-x --json $OUT/low-x8.json > $OUT/low-x8.txt 2>&1; echo "=== low x8 rc $?"; t $OUT/low-x8.txt
date +%T; timeout 200 $KG bench --device cuda --m 1,8,16 --schemes q4g128,q4g128s --reps 30 --int8-x --json $OUT/q4-x8.json > $OUT/q4-x8.txt 2>&1; echo "=== q4 x8 rc $?"; t $OUT/q4-x8.txt
date +%T; timeout 150 python3 .devbundle/torch_anchors.py > $OUT/torch-anchors.txt 2>&1; echo "=== anchors rc $?"; grep -E "copy|M=1:|M=16:" $OUT/torch-anchors.txt | head -20
date +%T
