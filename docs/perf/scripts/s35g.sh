#!/bin/bash
# Session 35, call 7 (H200): the third-bit words streamed past L1 in decode (without the branch, as call 6's bundle) and
# in the batch kernels (the bundle), against 7032f24 (.devbundle/base/): q3g128 at M = 1, 8, 16, int8 x, alternating
# twice, each process compiling its kernels.
source "$(dirname "$0")/common.sh"
unset KERNELGEN_KERNEL_CACHE
mkdir -p $OUT/r
rm -rf /tmp/kgbase && cp -r /tmp/kg /tmp/kgbase && cp .devbundle/base/KernelGen.dll /tmp/kgbase/KernelGen.dll
S=28672x8192,8192x28672,8192x8192
g() { local name=$1 bin=$2; timeout 120 $bin bench --device cuda --m 1,8,16 --schemes q3g128 --int8-x --shapes $S --reps 30 > $OUT/r/$name.txt 2>&1; echo "=== $name rc $?"; t $OUT/r/$name.txt | grep -v -E "^empty|^copy"; }
for i in 1 2; do g base-$i /tmp/kgbase/KernelGen.Cli; g new-$i $KG; done
tar -C $OUT -czf $OUT/s35g.tar.gz r && rm -rf $OUT/r
