#!/bin/bash
# Session 24, call 7 (H200): v27, output tiles cut by M (M not a multiple of 128) stored with one test per pair of
# activation rows instead of per value (GemmState.Cut), against v26b (.devbundle/v26b/), alternating twice; q4g128 at
# M = 64, 100, 200, 300 on 4096², 8192² and 14336×4096, then q2g64 and q8pcs once each.
source "$(dirname "$0")/common.sh"
rm -rf /tmp/kgo && cp -r /tmp/kg /tmp/kgo && cp .devbundle/v26b/KernelGen.dll /tmp/kgo/KernelGen.dll
r() { local name=$1 bin=$2; shift 2; date +%T; echo "=== $name" >> $OUT/ab.txt; timeout 100 $bin bench --device cuda "$@" > /tmp/$name.txt 2>&1; echo "=== $name rc $?"; t /tmp/$name.txt | tee -a $OUT/ab.txt; }
B="--m 64,100,200,300 --shapes 4096x4096,8192x8192,14336x4096 --schemes q4g128 --reps 30"
r v27-1 $KG $B; r v26b-1 /tmp/kgo/KernelGen.Cli $B; r v27-2 $KG $B; r v26b-2 /tmp/kgo/KernelGen.Cli $B
S="--m 100,300 --shapes 4096x4096,14336x4096 --schemes q2g64,q8pcs --reps 30"
r v27-s $KG $S; r v26b-s /tmp/kgo/KernelGen.Cli $S
date +%T
