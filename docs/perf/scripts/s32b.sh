#!/bin/bash
# Session 32, call 2 (H200): the committed build (f0e8aae) as the layer picks its kernels with int8 x (--int8-x; `*`
# where Pays keeps f16): the five schemes at M = 1, 2, 8, 16 and the GEMM's 128 and 2048, with errors; then f16 x at
# M = 1 and 16 (the default path; 9e20541's f16 change timed as committed); PyTorch's peers in the same call.
source "$(dirname "$0")/common.sh"
unset KERNELGEN_KERNEL_CACHE
date +%T; timeout 330 $KG bench --device cuda --m 1,2,8,16,128,2048 --int8-x --reps 30 --json $OUT/x8.json > $OUT/x8.txt 2>&1; echo "=== x8 rc $?"; t $OUT/x8.txt | grep -v -E "^empty"
date +%T; timeout 120 $KG bench --device cuda --m 1,16 --reps 30 --json $OUT/f16.json > $OUT/f16.txt 2>&1; echo "=== f16 rc $?"; t $OUT/f16.txt | grep -v -E "^empty"
date +%T; timeout 130 python3 .devbundle/torch_anchors.py > $OUT/torch-anchors.txt 2>&1; echo "=== anchors rc $?"; grep -E "copy|M=1:|M=16:|M=2048:" $OUT/torch-anchors.txt | head -30
date +%T
