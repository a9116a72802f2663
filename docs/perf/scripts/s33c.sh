#!/bin/bash
# Session 33, call 3 (H200): whole decode steps with the attention in SIMD lanes (a7b47b0) against the scalar loops
# (53e550a's KernelGen.dll in .devbundle/base/), alternating twice; q4g128 with f16 x and q8pcs with int8 x, 100 timed
# steps (positions 5-104) so that the per-position cost shows in the step series. Kernels cached after the first run.
source "$(dirname "$0")/common.sh"
export KERNELGEN_KERNEL_CACHE=/tmp/kgF
rm -rf /tmp/kgF /tmp/kgbase && cp -r /tmp/kg /tmp/kgbase && cp .devbundle/base/KernelGen.dll /tmp/kgbase/KernelGen.dll
mkdir -p $OUT/r
d() { local name=$1 bin=$2 x8=$3 scheme=$4; date +%T; KERNELGEN_INT8_X=$x8 timeout 100 $bin bench --device cuda --decode 4 --schemes $scheme --reps 100 --json $OUT/r/$name.json > $OUT/r/$name.txt 2>&1; echo "=== $name rc $?"; grep -E "^q[0-9]|cache" $OUT/r/$name.txt; }
for i in 1 2; do
  d scalar-q4-$i /tmp/kgbase/KernelGen.Cli 0 q4g128; d simd-q4-$i $KG 0 q4g128
  d scalar-x8-$i /tmp/kgbase/KernelGen.Cli 1 q8pcs; d simd-x8-$i $KG 1 q8pcs
done
date +%T
tar -C $OUT -czf $OUT/s33c.tar.gz r && rm -rf $OUT/r
