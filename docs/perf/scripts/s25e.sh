#!/bin/bash
# Session 25, call 6 (H200): the session's final build (KernelCache, the M > 8 GEMV launched behind x's conversion
# with a programmatic dependency): the issue's q4g128 table with PyTorch's peers in the same call, then the other four
# schemes at M = 1, 16, 128, 2048; from call 5's cache (the GEMV kernels of this build load, the GEMM's compile).
source "$(dirname "$0")/common.sh"
export KERNELGEN_KERNEL_CACHE=/tmp/kgcache
rm -rf /tmp/kgcache && tar -C /tmp -xzf .devbundle/kgcache.tar.gz
date +%T; timeout 150 $KG bench --device cuda --m 1,16,128,2048 --schemes q4g128 --reps 30 --json $OUT/q4.json > $OUT/q4.txt 2>&1; echo "=== q4 rc $?"; grep "kernel cache" $OUT/q4.txt; t $OUT/q4.txt
date +%T; timeout 150 python3 .devbundle/torch_anchors.py > $OUT/torch-anchors.txt 2>&1; echo "=== anchors rc $?"; grep -v tinygemm $OUT/torch-anchors.txt | head -40
date +%T; timeout 270 $KG bench --device cuda --m 1,16,128,2048 --schemes q4g128s,q8pcs,q3g128,q2g64 --reps 30 --json $OUT/schemes.json > $OUT/schemes.txt 2>&1; echo "=== schemes rc $?"; grep "kernel cache" $OUT/schemes.txt; t $OUT/schemes.txt
date +%T
