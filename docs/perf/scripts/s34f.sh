#!/bin/bash
# Session 34, calls 6 and 7 (H200): the flushes without conversion instructions (mma sums and zero points to float through
# 1.5*2^23 / 2^23 bit tricks: an integer add and a float add instead of I2F, which issues at 16 per clock and SM), and
# decode's unit pairs flushed once where they share their group; against eb25b4c (.devbundle/base/), alternating twice,
# int8 x, M = 1 and 16, each process compiling its kernels.
# Call 7 runs it again on the build whose batch flush keeps the bit trick only where a unit pair flushes once.
source "$(dirname "$0")/common.sh"
unset KERNELGEN_KERNEL_CACHE
mkdir -p $OUT/r
rm -rf /tmp/kgbase && cp -r /tmp/kg /tmp/kgbase && cp .devbundle/base/KernelGen.dll /tmp/kgbase/KernelGen.dll
S=4096x4096,8192x8192,28672x8192,8192x28672
g() { local name=$1 bin=$2; date +%T; timeout 140 $bin bench --device cuda --m 1,16 --schemes q2g64,q3g128,q4g128 --int8-x --shapes $S --reps 30 > $OUT/r/$name.txt 2>&1; echo "=== $name rc $?"; t $OUT/r/$name.txt | grep -v -E "^empty|^copy"; }
for i in 1 2; do g base-$i /tmp/kgbase/KernelGen.Cli; g new-$i $KG; done
date +%T
tar -C $OUT -czf $OUT/s34f.tar.gz r && rm -rf $OUT/r
