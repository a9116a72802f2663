#!/bin/bash
# Session 23, call 5: where a slab's group words are loaded. v22b (after the slab's first word, where groups end with a
# slab), v22 (at the slab's top: .devbundle/v22/) and v21 (at the slab's end, as before: .devbundle/v21/), alternating
# twice in one call; then ncu's per-instruction stall samples of v22b on 4096² q4g128 at M = 2048.
source "$(dirname "$0")/common.sh"
for v in v21 v22; do rm -rf /tmp/kg$v && cp -r /tmp/kg /tmp/kg$v && cp .devbundle/$v/KernelGen.dll /tmp/kg$v/KernelGen.dll; done
r() { local name=$1 bin=$2; shift 2; date +%T; timeout 170 $bin bench --device cuda "$@" > $OUT/$name.txt 2>&1; echo "=== $name rc $?"; t $OUT/$name.txt; }
B="--m 2048 --shapes 4096x4096,8192x8192 --schemes q4g128,q3g128,q2g64 --reps 30"
r v22b-1 $KG $B; r v22-1 /tmp/kgv22/KernelGen.Cli $B; r v21-1 /tmp/kgv21/KernelGen.Cli $B
r v22b-2 $KG $B; r v22-2 /tmp/kgv22/KernelGen.Cli $B; r v21-2 /tmp/kgv21/KernelGen.Cli $B
timeout 150 ncu --set full --import-source no -k regex:WarpGroupKernel --launch-skip 2 --launch-count 1 -o /tmp/g4096 $KG bench --device cuda --shapes 4096x4096 --m 2048 --schemes q4g128 --reps 3 --warmup 1 > /tmp/ncu-4096.log 2>&1
echo "=== ncu rc $?"; ncu -i /tmp/g4096.ncu-rep --page source --csv --print-source sass > $OUT/g4096-v22b-source.csv 2>&1
date +%T
