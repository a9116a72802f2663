#!/bin/bash
# Session 23, call 4: v22 (the next group's words loaded at the next slab's top where a group opens at a slab's end)
# against v21 (.devbundle/v21/) and the build before both (d120321, .devbundle/old/), alternating in one call; then
# ncu's per-instruction stall samples of v22 on 4096² at M = 2048.
source "$(dirname "$0")/common.sh"
for v in old v21; do rm -rf /tmp/kg$v && cp -r /tmp/kg /tmp/kg$v && cp .devbundle/$v/KernelGen.dll /tmp/kg$v/KernelGen.dll; done
r() { local name=$1 bin=$2; shift 2; date +%T; timeout 170 $bin bench --device cuda "$@" --json $OUT/$name.json > $OUT/$name.txt 2>&1; echo "=== $name rc $?"; t $OUT/$name.txt; }
A="--m 128,2048 --shapes 4096x4096,8192x8192,28672x8192,8192x28672 --schemes q4g128 --reps 20"
r v22a $KG $A; r v21a /tmp/kgv21/KernelGen.Cli $A; r olda /tmp/kgold/KernelGen.Cli $A
B="--m 2048 --shapes 4096x4096,8192x8192 --schemes q4g128,q3g128,q2g64,q8pcs,q4g128s --reps 30"
r v22b $KG $B; r v21b /tmp/kgv21/KernelGen.Cli $B; r v22c $KG $B
timeout 150 ncu --set full --import-source no -k regex:WarpGroupKernel --launch-skip 2 --launch-count 1 -o /tmp/g4096 $KG bench --device cuda --shapes 4096x4096 --m 2048 --schemes q4g128 --reps 3 --warmup 1 > $OUT/ncu-4096.log 2>&1
echo "=== ncu rc $?"; ncu -i /tmp/g4096.ncu-rep --page source --csv --print-source sass > $OUT/g4096-source.csv 2>&1
date +%T
