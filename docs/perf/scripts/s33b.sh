#!/bin/bash
# Session 33, call 2 (H200): (1) 5594c1f (8-bit flush: zero point off the int32 sums) against the build before it
# (b6a6c66's KernelGen.dll in .devbundle/base/), q8pcs with int8 x, alternating twice, each process compiling its
# kernels. (2) Whole decode steps (q8pcs, int8 x, kernels cached after a first run): default tiered compilation
# against DOTNET_TieredCompilation=0, alternating twice (call 1: 2.98 / 2.37 ms with it off, 3.5-6.7 with it on).
# Everything lands in one tarball (the device returns at most a few files).
source "$(dirname "$0")/common.sh"
unset KERNELGEN_KERNEL_CACHE
mkdir -p $OUT/r
rm -rf /tmp/kgbase && cp -r /tmp/kg /tmp/kgbase && cp .devbundle/base/KernelGen.dll /tmp/kgbase/KernelGen.dll
S=4096x4096,8192x8192,28672x8192,8192x28672
g() { local name=$1 bin=$2; date +%T; timeout 100 $bin bench --device cuda --m 1,2,16 --schemes q8pcs --int8-x --shapes $S --reps 30 > $OUT/r/$name.txt 2>&1; echo "=== $name rc $?"; t $OUT/r/$name.txt | grep -v -E "^empty"; }
for i in 1 2; do g base-$i /tmp/kgbase/KernelGen.Cli; g new-$i $KG; done
d() { local name=$1; shift; date +%T; KERNELGEN_KERNEL_CACHE=/tmp/kgE timeout 100 env KERNELGEN_INT8_X=1 "$@" $KG bench --device cuda --decode 4 --schemes q8pcs --reps 30 --json $OUT/r/$name.json > $OUT/r/$name.txt 2>&1; echo "=== $name rc $?"; grep -E "^q8pcs|cache" $OUT/r/$name.txt; }
rm -rf /tmp/kgE
d fill
for i in 1 2; do d tc0-$i DOTNET_TieredCompilation=0; d default-$i; done
date +%T
tar -C $OUT -czf $OUT/s33b.tar.gz r && rm -rf $OUT/r
