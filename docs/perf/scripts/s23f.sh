#!/bin/bash
# Session 23, call 6: the final table's first half on the build to be committed (v22c: GEMM v21 + v22c, GEMV v43):
# q4g128 at M = 1, 16, 128, 2048 on the issue's four shapes, PyTorch's peers (do_bench) in the same call, and the other
# schemes at M = 128 and 2048; 3-bit also on v22b (.devbundle/v22b/: group words after the first word only where groups
# end with slabs), whose 3-bit kernel loads them at the slab's top instead.
source "$(dirname "$0")/common.sh"
rm -rf /tmp/kgb && cp -r /tmp/kg /tmp/kgb && cp .devbundle/v22b/KernelGen.dll /tmp/kgb/KernelGen.dll
r() { local name=$1 bin=$2 lim=$3; shift 3; date +%T; timeout $lim $bin bench --device cuda "$@" > $OUT/$name.txt 2>&1; echo "=== $name rc $?"; t $OUT/$name.txt; }
r q3-v22c $KG 60 --m 2048 --shapes 4096x4096,8192x8192 --schemes q3g128 --reps 30
r q3-v22b /tmp/kgb/KernelGen.Cli 60 --m 2048 --shapes 4096x4096,8192x8192 --schemes q3g128 --reps 30
r final-q4 $KG 200 --m 1,16,128,2048 --schemes q4g128 --reps 30 --json $OUT/final-q4.json
date +%T; timeout 150 python3 .devbundle/torch_anchors.py > $OUT/final-torch-anchors.txt 2>&1; tail -22 $OUT/final-torch-anchors.txt
r final-gemm-schemes $KG 200 --m 128,2048 --schemes q4g128s,q8pcs,q3g128,q2g64 --reps 30 --json $OUT/final-gemm-schemes.json
date +%T
