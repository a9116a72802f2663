#!/bin/bash
# Session 34, call 8 (H200): decode's flush with the zero point taken off U in integers (Σ q stored as an integer,
# zero·Σq/λ exact), one conversion per row instead of two plus a float product; against eb25b4c (.devbundle/base/),
# alternating twice, int8 x, M = 1, each process compiling its kernels.
# Needs s34-decode-intzero.patch.
source "$(dirname "$0")/common.sh"
unset KERNELGEN_KERNEL_CACHE
mkdir -p $OUT/r
rm -rf /tmp/kgbase && cp -r /tmp/kg /tmp/kgbase && cp .devbundle/base/KernelGen.dll /tmp/kgbase/KernelGen.dll
S=28672x8192,8192x28672
g() { local name=$1 bin=$2; timeout 45 $bin bench --device cuda --m 1 --schemes q2g64,q3g128,q4g128 --int8-x --shapes $S --reps 30 > $OUT/r/$name.txt 2>&1; echo "=== $name rc $?"; t $OUT/r/$name.txt | grep -v -E "^empty|^copy"; }
for i in 1 2; do g base-$i /tmp/kgbase/KernelGen.Cli; g new-$i $KG; done
tar -C $OUT -czf $OUT/s34g.tar.gz r && rm -rf $OUT/r
