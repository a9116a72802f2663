#!/bin/bash
# Session 32, call 6 (H200): the committed build (4b74d8f) as the layer picks its kernels with int8 x (--int8-x; `*`
# where Pays keeps f16), the five schemes at M = 1, 2, 8, 16 on the issue's four shapes and 1024x4096, with errors;
# PyTorch's peers in the same call.
source "$(dirname "$0")/common.sh"
unset KERNELGEN_KERNEL_CACHE
date +%T; timeout 360 $KG bench --device cuda --m 1,2,8,16 --shapes 1024x4096,4096x4096,8192x8192,28672x8192,8192x28672 --int8-x --reps 30 --json $OUT/x8.json > $OUT/x8.txt 2>&1; echo "=== x8 rc $?"; t $OUT/x8.txt | grep -v -E "^empty"
date +%T; timeout 100 python3 .devbundle/torch_anchors.py > $OUT/torch-anchors.txt 2>&1; echo "=== anchors rc $?"; grep -E "copy|M=1:|M=16:" $OUT/torch-anchors.txt | head -20
date +%T
