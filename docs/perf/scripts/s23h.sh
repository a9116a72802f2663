#!/bin/bash
# Session 23, call 7: v24 (the first slab's weights, the ring's first copies and the group words all asked for before
# the first wait) against v22c (.devbundle/v22c/), alternating twice; then the final table's second half (the other
# schemes at M = 1 and 16: the GEMV v43, timed here for the first time as committed).
source "$(dirname "$0")/common.sh"
rm -rf /tmp/kgc && cp -r /tmp/kg /tmp/kgc && cp .devbundle/v22c/KernelGen.dll /tmp/kgc/KernelGen.dll
r() { local name=$1 bin=$2; shift 2; date +%T; timeout 60 $bin bench --device cuda "$@" > $OUT/$name.txt 2>&1; echo "=== $name rc $?"; t $OUT/$name.txt; }
B="--m 128,2048 --shapes 4096x4096,8192x8192 --schemes q4g128,q3g128 --reps 30"
r v24-1 $KG $B; r v22c-1 /tmp/kgc/KernelGen.Cli $B; r v24-2 $KG $B; r v22c-2 /tmp/kgc/KernelGen.Cli $B
date +%T; timeout 400 $KG bench --device cuda --m 1,16 --schemes q4g128s,q8pcs,q3g128,q2g64 --reps 30 --json $OUT/final-gemv-schemes.json > $OUT/final-gemv-schemes.txt 2>&1; echo "rc $?"; date +%T; t $OUT/final-gemv-schemes.txt
