#!/bin/bash
# Session 24, call 10 (H200): call 9 measured q4g128 8192×28672 at M = 2048 7 % slower than call 1 (cuBLAS 1 %). Same
# call: 8bd9345 (.devbundle/b0/), v26b (59e9849, b1/) and v27 (ad18927, the bundle), alternating twice; none of the three
# changes that case's splits or store path, but v27's epilogue is new code in the same kernel.
source "$(dirname "$0")/common.sh"
for b in b0 b1; do rm -rf /tmp/kg$b && cp -r /tmp/kg /tmp/kg$b && cp .devbundle/$b/KernelGen.dll /tmp/kg$b/KernelGen.dll; done
r() { local name=$1 bin=$2; shift 2; echo "=== $name" >> $OUT/ab.txt; timeout 60 $bin bench --device cuda "$@" > /tmp/$name.txt 2>&1; echo "=== $name rc $?"; t /tmp/$name.txt | grep -v -E "^copy|^empty" | tee -a $OUT/ab.txt; }
B="--m 2048 --shapes 4096x4096,8192x28672 --schemes q4g128 --reps 20"
for i in 1 2; do r 8bd9345-$i /tmp/kgb0/KernelGen.Cli $B; r v26b-$i /tmp/kgb1/KernelGen.Cli $B; r v27-$i $KG $B; done
date +%T
