#!/bin/bash
# Session 18, call 6: PoCL as a CPU path at real shapes, on the GPU machine's 16-core Xeon (no GPU used): one decode
# step of one Llama-3-8B-shaped layer, and the q4g128 GEMV on two of its projection shapes, against the CPU reference.
source "$(dirname "$0")/common.sh"
nproc; lscpu | grep -E 'Model name|^CPU\(s\)'
timeout 200 $KG bench --device opencl --shapes 4096x4096,14336x4096 --m 1 --schemes q4g128 --reps 10 --json $OUT/pocl-gemv-8b-shapes.json > $OUT/pocl-gemv.txt 2>&1; head -3 $OUT/pocl-gemv.txt; tail -3 $OUT/pocl-gemv.txt
timeout 300 $KG bench --decode 1 --device opencl --schemes q4g128 --reps 5 --warmup 2 --json $OUT/pocl-decode-8b-1layer.json 2>&1 | tail -3
