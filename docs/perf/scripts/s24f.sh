#!/bin/bash
# Session 24, call 6 (H200): v26b, the warpgroup GEMM's splits (TensorCoreGemm.GroupSplits: enough for two blocks per SM
# where each block keeps 96 k-blocks, or 256 where one block per SM would leave K whole; else enough for one) against
# the rule until then (two blocks per SM; .devbundle/old/, the build of call 4), alternating twice, q4g128 at M = 64 …
# 512 on 4096², 8192² and Llama-3-8B's gate/up and down shapes; then the other schemes once each.
source "$(dirname "$0")/common.sh"
rm -rf /tmp/kgo && cp -r /tmp/kg /tmp/kgo && cp .devbundle/old/KernelGen.dll /tmp/kgo/KernelGen.dll
r() { local name=$1 bin=$2; shift 2; date +%T; echo "=== $name" >> $OUT/ab.txt; timeout 120 $bin bench --device cuda "$@" > /tmp/$name.txt 2>&1; echo "=== $name rc $?"; t /tmp/$name.txt | tee -a $OUT/ab.txt; }
B="--m 64,128,256,512 --shapes 4096x4096,8192x8192,14336x4096,4096x14336 --schemes q4g128 --reps 30"
r new1 $KG $B; r old1 /tmp/kgo/KernelGen.Cli $B; r new2 $KG $B; r old2 /tmp/kgo/KernelGen.Cli $B
S="--m 128,256,512 --shapes 4096x4096,4096x14336 --schemes q4g128s,q8pcs,q3g128,q2g64 --reps 30"
r new-s $KG $S; r old-s /tmp/kgo/KernelGen.Cli $S
date +%T
