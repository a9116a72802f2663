#!/bin/bash
# Session 23, call 9 (the final review): the group words' pending flag replaced by a constant where groups end at
# fixed k-blocks (one ends with every slab, so every slab loads the next group's words), against v25 (950a3ae,
# .devbundle/v25/), alternating twice, M = 2048.
source "$(dirname "$0")/common.sh"
rm -rf /tmp/kgv && cp -r /tmp/kg /tmp/kgv && cp .devbundle/v25/KernelGen.dll /tmp/kgv/KernelGen.dll
r() { local name=$1 bin=$2; shift 2; echo "=== $name" >> $OUT/ab.txt; timeout 40 $bin bench --device cuda "$@" > /tmp/$name.txt 2>&1; echo "=== $name rc $?"; t /tmp/$name.txt | tee -a $OUT/ab.txt; }
B="--m 2048 --shapes 4096x4096,8192x8192 --schemes q2g64,q3g128,q4g128 --reps 30"
r review-1 $KG $B; r v25-1 /tmp/kgv/KernelGen.Cli $B; r review-2 $KG $B; r v25-2 /tmp/kgv/KernelGen.Cli $B
