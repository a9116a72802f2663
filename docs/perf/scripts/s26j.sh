#!/bin/bash
# Session 26, call 10 (H200): the session's final build. Decode (M = 1) and M = 16 of q4g128, q3g128, q2g64 with f16
# activations, q3g128 and q2g64 at M = 1 with x rounded to int8 (--int8-x), PyTorch's peers, and whole decode steps of
# 4 Llama-3-8B-shaped 2-bit layers with f16 and int8 activations (KERNELGEN_INT8_X=1).
source "$(dirname "$0")/common.sh"
date +%T; timeout 200 $KG bench --device cuda --m 1,16 --schemes q4g128,q3g128,q2g64 --reps 30 --json $OUT/f16.json > $OUT/f16.txt 2>&1; echo "=== f16 rc $?"; t $OUT/f16.txt
date +%T; timeout 60 $KG bench --device cuda --m 1 --schemes q3g128,q2g64 --reps 30 --int8-x --json $OUT/x8.json > $OUT/x8.txt 2>&1; echo "=== x8 rc $?"; t $OUT/x8.txt
date +%T; timeout 150 python3 .devbundle/torch_anchors.py > $OUT/torch-anchors.txt 2>&1; echo "=== anchors rc $?"; grep -E "copy|M=1:|M=16:" $OUT/torch-anchors.txt | head -20
date +%T; timeout 100 $KG bench --decode 4 --device cuda --schemes q2g64 --reps 50 --warmup 10 > /tmp/dec-f16.txt 2>&1; echo "=== decode f16 rc $?"; tail -4 /tmp/dec-f16.txt
date +%T; KERNELGEN_INT8_X=1 timeout 100 $KG bench --decode 4 --device cuda --schemes q2g64 --reps 50 --warmup 10 > /tmp/dec-x8.txt 2>&1; echo "=== decode int8 rc $?"; tail -4 /tmp/dec-x8.txt
cat /tmp/dec-f16.txt /tmp/dec-x8.txt > $OUT/decode.txt
date +%T
