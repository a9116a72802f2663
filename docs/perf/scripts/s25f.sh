#!/bin/bash
# Session 25, call 7 (H200): v44's dependent launch applied to the wgmma GEMM behind x's conversion (the bundle)
# against the GEMV-only build of call 6 (.devbundle/b0/, eba97f2), q4g128 at M = 64, 128, 2048, alternating twice.
# The cache of call 5 holds b0's GEMV kernels; both builds compile their GEMM in the first run.
source "$(dirname "$0")/common.sh"
export KERNELGEN_KERNEL_CACHE=/tmp/kgcache
rm -rf /tmp/kgcache && tar -C /tmp -xzf .devbundle/kgcache.tar.gz
rm -rf /tmp/kgb0 && cp -r /tmp/kg /tmp/kgb0 && cp .devbundle/b0/KernelGen.dll /tmp/kgb0/KernelGen.dll
B="--device cuda --m 64,128,2048 --schemes q4g128 --reps 30"
r() { local name=$1 bin=$2; echo "=== $name" >> $OUT/ab.txt; timeout 100 $bin bench $B > /tmp/$name.txt 2>&1; echo "=== $name rc $?"; grep -E "kernel cache|FAILED" /tmp/$name.txt; t /tmp/$name.txt | grep -v -E "^copy|^empty" | tee -a $OUT/ab.txt; }
for i in 1 2; do r gemv-only-$i /tmp/kgb0/KernelGen.Cli; r gemm-too-$i $KG; done
date +%T
