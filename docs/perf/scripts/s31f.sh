#!/bin/bash
# Session 31, call 6 (H200): the int8 batch's two register sets loaded without branches (weights by a predicated
# ld.global.nc, the rest at the warp's last slab), so that ptxas stops copying a set's registers around the loop,
# against 7c6b4a1 (x's nibble words reordered; its KernelGen.dll in .devbundle/base/), alternating twice; 4-bit at
# M = 2, 8, 16, 2- and 3-bit at M = 8 and 16 (3-bit M = 16 forced onto int8 x with KERNELGEN_X8_ALWAYS=1 in a third run).
source "$(dirname "$0")/common.sh"
unset KERNELGEN_KERNEL_CACHE
rm -rf /tmp/kgbase && cp -r /tmp/kg /tmp/kgbase && cp .devbundle/base/KernelGen.dll /tmp/kgbase/KernelGen.dll
S=8192x8192,28672x8192,8192x28672
r() { local name=$1 bin=$2; shift 2; date +%T; timeout 120 $bin bench --device cuda --int8-x --shapes $S --reps 30 "$@" > $OUT/$name.txt 2>&1; echo "=== $name rc $?"; t $OUT/$name.txt | grep -v -E "^empty|^copy"; }
for i in 1 2; do
  r base4-$i /tmp/kgbase/KernelGen.Cli --m 2,8,16 --schemes q4g128,q4g128s; r new4-$i $KG --m 2,8,16 --schemes q4g128,q4g128s
done
r base23 /tmp/kgbase/KernelGen.Cli --m 8,16 --schemes q2g64,q3g128; r new23 $KG --m 8,16 --schemes q2g64,q3g128
export KERNELGEN_X8_ALWAYS=1
r base3a /tmp/kgbase/KernelGen.Cli --m 16 --schemes q3g128; r new3a $KG --m 16 --schemes q3g128
date +%T
