#!/bin/bash
# Session 24, call 8 (H200): call 7 measured q8pcs 14336×4096 at M = 300 10 % slower with v27 (one run each). v27 against
# v26b again, alternating three times: q8pcs at M = 256, 300, 384 and 2048 (tiles whole, cut, whole) on 14336×4096 and
# 4096², to tell noise from a change in the 8-bit kernel's main loop.
source "$(dirname "$0")/common.sh"
rm -rf /tmp/kgo && cp -r /tmp/kg /tmp/kgo && cp .devbundle/v26b/KernelGen.dll /tmp/kgo/KernelGen.dll
r() { local name=$1 bin=$2; shift 2; date +%T; echo "=== $name" >> $OUT/ab.txt; timeout 100 $bin bench --device cuda "$@" > /tmp/$name.txt 2>&1; echo "=== $name rc $?"; t /tmp/$name.txt | tee -a $OUT/ab.txt; }
B="--m 256,300,384,2048 --shapes 4096x4096,14336x4096 --schemes q8pcs --reps 30"
r v27-1 $KG $B; r v26b-1 /tmp/kgo/KernelGen.Cli $B; r v27-2 $KG $B; r v26b-2 /tmp/kgo/KernelGen.Cli $B; r v27-3 $KG $B; r v26b-3 /tmp/kgo/KernelGen.Cli $B
date +%T
