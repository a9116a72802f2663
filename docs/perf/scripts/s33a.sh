#!/bin/bash
# Session 33, call 1 (H200): whole decode steps with 8-bit codes (bench --decode 4 --schemes q8pcs), now with every
# projection of both models checked against float64 over the x it read in the warm-up steps, and the time of each
# step in the JSON. (1) Does the stacked/separate logit gap with int8 x come with correct projections? (2) Why are
# int8 steps 2.5x slower when the process compiled its kernels (session 32, calls 7 and 9)? Compiled vs cached vs
# compiled with tiered compilation off / call counting without its delay. Then a q8pcs GEMV check of 5594c1f.
source "$(dirname "$0")/common.sh"
unset KERNELGEN_KERNEL_CACHE
d() { local name=$1 cache=$2; shift 2; date +%T; KERNELGEN_KERNEL_CACHE=$cache timeout 110 env "$@" $KG bench --device cuda --decode 4 --schemes q8pcs --reps 30 --json $OUT/$name.json > $OUT/$name.txt 2>&1; echo "=== $name rc $?"; grep -v -E "^\s*$" $OUT/$name.txt | tail -5; }
rm -rf /tmp/kgA /tmp/kgB /tmp/kgC /tmp/kgD
d x8-compiled /tmp/kgA KERNELGEN_INT8_X=1
d x8-cached /tmp/kgA KERNELGEN_INT8_X=1
d x8-tc0-compiled /tmp/kgB KERNELGEN_INT8_X=1 DOTNET_TieredCompilation=0
d x8-nodelay-compiled /tmp/kgC KERNELGEN_INT8_X=1 DOTNET_TC_CallCountingDelayMs=0
d x8always-cached /tmp/kgA KERNELGEN_INT8_X=1 KERNELGEN_X8_ALWAYS=1
d f16-compiled /tmp/kgD KERNELGEN_INT8_X=0
date +%T
KERNELGEN_KERNEL_CACHE=/tmp/kgA timeout 100 $KG bench --device cuda --int8-x --shapes 8192x8192,28672x8192 --m 1,16 --schemes q8pcs --json $OUT/gemv-q8.json > $OUT/gemv-q8.txt 2>&1; echo "=== gemv rc $?"; t $OUT/gemv-q8.txt
date +%T
