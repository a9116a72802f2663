#!/bin/bash
# Session 31, call 4 (H200): x's nibble words stored in the order 0, 2, 1, 3 for the int8 batch (each mma's B operand a
# consecutive pair of the 16-byte load: no register moves before the mmas) against the committed build (fb09eca's
# KernelGen.dll in .devbundle/base/), alternating twice; 4-bit codes at M = 2, 8, 16.
source "$(dirname "$0")/common.sh"
unset KERNELGEN_KERNEL_CACHE
rm -rf /tmp/kgbase && cp -r /tmp/kg /tmp/kgbase && cp .devbundle/base/KernelGen.dll /tmp/kgbase/KernelGen.dll
S=8192x8192,28672x8192,8192x28672
r() { local name=$1 bin=$2; date +%T; timeout 120 $bin bench --device cuda --m 2,8,16 --schemes q4g128,q4g128s --int8-x --shapes $S --reps 30 > $OUT/$name.txt 2>&1; echo "=== $name rc $?"; t $OUT/$name.txt | grep -v -E "^empty|^copy"; }
for i in 1 2; do r base-$i /tmp/kgbase/KernelGen.Cli; r new-$i $KG; done
date +%T
