#!/bin/bash
# Session 31, call 8 (H200): the committed build (8818a7e) as the layer picks its kernels with int8 x (--int8-x; `*`
# where Pays keeps f16): M = 1, 2, 8, 16 for the four int8 schemes with errors, and PyTorch's peers in the same call.
source "$(dirname "$0")/common.sh"
unset KERNELGEN_KERNEL_CACHE
date +%T; timeout 300 $KG bench --device cuda --m 1,2,8,16 --schemes q4g128,q4g128s,q3g128,q2g64 --int8-x --reps 30 --json $OUT/x8.json > $OUT/x8.txt 2>&1; echo "=== x8 rc $?"; t $OUT/x8.txt | grep -v -E "^empty"
date +%T; timeout 150 python3 .devbundle/torch_anchors.py > $OUT/torch-anchors.txt 2>&1; echo "=== anchors rc $?"; grep -E "copy|M=1:|M=16:" $OUT/torch-anchors.txt | head -20
date +%T
