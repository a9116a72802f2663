#!/bin/bash
# Session 27, call 6 (H200): the session's final build. q4g128 and q4g128s at M = 1, 8, 16 with f16 x and with --int8-x
# (Int8ActivationGemv where Pays says so: 4-bit on grids of more row blocks than SMs, M > 8 symmetric only), q2g64 and
# q3g128 at M = 1 with --int8-x, and PyTorch's peers in the same call.
source "$(dirname "$0")/common.sh"
date +%T; timeout 150 $KG bench --device cuda --m 1,8,16 --schemes q4g128,q4g128s --reps 30 --json $OUT/f16.json > $OUT/f16.txt 2>&1; echo "=== f16 rc $?"; t $OUT/f16.txt
date +%T; timeout 150 $KG bench --device cuda --m 1,8,16 --schemes q4g128,q4g128s --reps 30 --int8-x --json $OUT/x8.json > $OUT/x8.txt 2>&1; echo "=== x8 rc $?"; t $OUT/x8.txt
date +%T; timeout 90 $KG bench --device cuda --m 1 --schemes q3g128,q2g64 --reps 30 --int8-x --json $OUT/x8-low.json > $OUT/x8-low.txt 2>&1; echo "=== x8 2/3-bit rc $?"; t $OUT/x8-low.txt
date +%T; timeout 150 python3 .devbundle/torch_anchors.py > $OUT/torch-anchors.txt 2>&1; echo "=== anchors rc $?"; grep -E "copy|M=1:|M=8:|M=16:" $OUT/torch-anchors.txt | head -20
date +%T
