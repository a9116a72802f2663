#!/bin/bash
# Session 33, call 4 (H200): whole decode steps over 300 timed positions (5-304), q4g128 with f16 x: the scalar attention
# (53e550a's KernelGen.dll, .devbundle/base/), SIMD on one thread (a7b47b0's, .devbundle/base2/) and SIMD with a kv head's
# query heads together and kv heads on the thread pool from 2^18 multiply-adds (this build), alternating twice.
source "$(dirname "$0")/common.sh"
export KERNELGEN_KERNEL_CACHE=/tmp/kgG
rm -rf /tmp/kgG /tmp/kgbase /tmp/kgbase2
cp -r /tmp/kg /tmp/kgbase && cp .devbundle/base/KernelGen.dll /tmp/kgbase/KernelGen.dll
cp -r /tmp/kg /tmp/kgbase2 && cp .devbundle/base2/KernelGen.dll /tmp/kgbase2/KernelGen.dll
mkdir -p $OUT/r
d() { local name=$1 bin=$2; date +%T; timeout 100 $bin bench --device cuda --decode 4 --schemes q4g128 --reps 300 --json $OUT/r/$name.json > $OUT/r/$name.txt 2>&1; echo "=== $name rc $?"; grep -E "^q[0-9]|cache" $OUT/r/$name.txt; }
for i in 1 2; do d scalar-$i /tmp/kgbase/KernelGen.Cli; d simd-$i /tmp/kgbase2/KernelGen.Cli; d pool-$i $KG; done
date +%T
tar -C $OUT -czf $OUT/s33d.tar.gz r && rm -rf $OUT/r
