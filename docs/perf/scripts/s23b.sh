#!/bin/bash
# Session 23, call 2: the GEMM's store without a test per value where the tile lies inside y (v21), against the build
# before it (d120321: its KernelGen.dll in .devbundle/old/), old and new alternating in one call. q4g128 at M = 128 and
# 2048 on 4096 × 1024 and the issue's four shapes, then 4096² again; q3g128 and q2g64 on 4096² (the other widths' stores).
source "$(dirname "$0")/common.sh"
rm -rf /tmp/kgold && cp -r /tmp/kg /tmp/kgold && cp .devbundle/old/KernelGen.dll /tmp/kgold/KernelGen.dll
r() { local name=$1 bin=$2; shift 2; date +%T; timeout 170 $bin bench --device cuda "$@" --json $OUT/$name.json > $OUT/$name.txt 2>&1; echo "=== $name rc $?"; t $OUT/$name.txt; }
A="--m 128,2048 --shapes 4096x1024,4096x4096,8192x8192,28672x8192,8192x28672 --schemes q4g128 --reps 20"
r old1 /tmp/kgold/KernelGen.Cli $A
r new1 $KG $A
B="--m 128,2048 --shapes 4096x4096 --schemes q4g128,q3g128,q2g64 --reps 30"
r old2 /tmp/kgold/KernelGen.Cli $B
r new2 $KG $B
timeout 100 ncu --clock-control none -k regex:WarpGroupKernel --launch-count 6 --metrics gpu__time_duration.sum,smsp__inst_executed.sum $KG bench --device cuda --m 2048 --shapes 4096x1024,4096x2048 --schemes q4g128 --reps 2 --warmup 1 > $OUT/new-ncu.txt 2>&1
grep -E "^  Kernel_|duration|inst_exec" $OUT/new-ncu.txt | awk '{print $1, $NF}' | paste - - -
date +%T
