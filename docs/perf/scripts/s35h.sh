#!/bin/bash
# Session 35, call 8 (H200): the committed form (f2ec425: v48 + v49) as the issue's table asks, with x rounded to int8:
# the five schemes at M = 1 and 16 on the four shapes (JSON under $OUT), and PyTorch's peers (cuBLAS bf16,
# _weight_int4pack_mm) in the same call.
source "$(dirname "$0")/common.sh"
unset KERNELGEN_KERNEL_CACHE
date +%T
timeout 300 $KG bench --device cuda --m 1,16 --schemes q4g128,q4g128s,q8pcs,q3g128,q2g64 --int8-x --shapes 4096x4096,8192x8192,28672x8192,8192x28672 --reps 30 --json $OUT/s35h-int8x.json > $OUT/s35h-int8x.txt 2>&1
echo "=== bench rc $?"; t $OUT/s35h-int8x.txt
date +%T
timeout 200 python3 .devbundle/torch_anchors.py > $OUT/s35h-torch.txt 2>&1
echo "=== torch rc $?"; tail -25 $OUT/s35h-torch.txt
date +%T
