#!/bin/bash
# Session 35, call 6 (H200): 3-bit decode's third-bit words streamed past L1 (`ld.global.nc.L1::no_allocate.v2.u32`,
# as the low plane is; ncu in call 4 put 23 % of the 3-bit loop's stall samples on their first use), with the next slab
# behind its branch (.devbundle/s3/) and without it (the bundle: s3 with s35-no-branch-3bit.patch), against 7032f24
# (.devbundle/base/). q3g128 M = 1, int8 x, alternating twice, each process compiling its kernels.
source "$(dirname "$0")/common.sh"
unset KERNELGEN_KERNEL_CACHE
mkdir -p $OUT/r
for v in base s3; do rm -rf /tmp/kg$v && cp -r /tmp/kg /tmp/kg$v && cp .devbundle/$v/KernelGen.dll /tmp/kg$v/KernelGen.dll; done
S=28672x8192,8192x28672,8192x8192
g() { local name=$1 bin=$2; timeout 90 $bin bench --device cuda --m 1 --schemes q3g128 --int8-x --shapes $S --reps 30 > $OUT/r/$name.txt 2>&1; echo "=== $name rc $?"; t $OUT/r/$name.txt | grep -v -E "^empty|^copy"; }
for i in 1 2; do g base-$i /tmp/kgbase/KernelGen.Cli; g s3-$i /tmp/kgs3/KernelGen.Cli; g s3nb-$i $KG; done
tar -C $OUT -czf $OUT/s35f.tar.gz r && rm -rf $OUT/r
