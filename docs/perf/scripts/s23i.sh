#!/bin/bash
# Session 23, call 8: v25 (a barrier every four k-blocks, after draining the warpgroup's mmas; x's ring refilled four
# slots at a time) against v22c (the committed ebc33ae, .devbundle/v22c/), alternating twice (ab.txt); then the final
# table's GEMM half again on v25 with PyTorch's peers in the same call (kept only if v25 is kept).
source "$(dirname "$0")/common.sh"
rm -rf /tmp/kgc && cp -r /tmp/kg /tmp/kgc && cp .devbundle/v22c/KernelGen.dll /tmp/kgc/KernelGen.dll
r() { local name=$1 bin=$2; shift 2; date +%T; echo "=== $name" >> $OUT/ab.txt; timeout 60 $bin bench --device cuda "$@" > /tmp/$name.txt 2>&1; echo "=== $name rc $?"; t /tmp/$name.txt | tee -a $OUT/ab.txt; }
B="--m 128,2048 --shapes 4096x4096,8192x8192 --schemes q4g128,q3g128,q2g64,q8pcs --reps 30"
r v25-1 $KG $B; r v22c-1 /tmp/kgc/KernelGen.Cli $B; r v25-2 $KG $B; r v22c-2 /tmp/kgc/KernelGen.Cli $B
date +%T; timeout 150 $KG bench --device cuda --m 1,16,128,2048 --schemes q4g128 --reps 30 --json $OUT/final-q4.json > $OUT/final-q4.txt 2>&1; echo "=== final-q4 rc $?"; t $OUT/final-q4.txt
date +%T; timeout 150 python3 .devbundle/torch_anchors.py > $OUT/final-torch-anchors.txt 2>&1; grep -E "M=2048|copy" $OUT/final-torch-anchors.txt | grep -v tinygemm
date +%T; timeout 150 $KG bench --device cuda --m 128,2048 --schemes q4g128s,q8pcs,q3g128,q2g64 --reps 30 --json $OUT/final-gemm-schemes.json > $OUT/final-gemm-schemes.txt 2>&1; echo "=== schemes rc $?"; t $OUT/final-gemm-schemes.txt
date +%T
