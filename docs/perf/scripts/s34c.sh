#!/bin/bash
# Session 34, call 3 (H200): decode (M = 1, int8 x) with a unit pair's integer sums flushed once where it shares its
# group (q3g128, q4g128) and 2-bit units' four mmas in two chains (q2g64), against eb25b4c (.devbundle/base/), alternating
# twice, each process compiling its kernels.
# Pair flush: s34-decode-pairflush.patch on eb25b4c; the two chains were not kept as a patch.
source "$(dirname "$0")/common.sh"
unset KERNELGEN_KERNEL_CACHE
mkdir -p $OUT/r
rm -rf /tmp/kgbase && cp -r /tmp/kg /tmp/kgbase && cp .devbundle/base/KernelGen.dll /tmp/kgbase/KernelGen.dll
S=4096x4096,8192x8192,28672x8192,8192x28672
g() { local name=$1 bin=$2; date +%T; timeout 140 $bin bench --device cuda --m 1 --schemes q2g64,q3g128,q4g128,q4g128s --int8-x --shapes $S --reps 30 > $OUT/r/$name.txt 2>&1; echo "=== $name rc $?"; t $OUT/r/$name.txt | grep -v -E "^empty|^copy"; }
for i in 1 2; do g base-$i /tmp/kgbase/KernelGen.Cli; g new-$i $KG; done
date +%T
tar -C $OUT -czf $OUT/s34c.tar.gz r && rm -rf $OUT/r
