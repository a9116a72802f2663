#!/bin/bash
# Session 18, call 1: (1) every scheme on this machine's PoCL through OpenCL, now compiled at O2 (address spaces
# inferred; docs/opencl.md), checked against the CPU reference; (2) whole decode steps of 4 Llama-3-8B-shaped layers,
# q|k|v and gate|up stacked against seven launches per layer (prepared in session 17, decode17.sh); (3) the share of
# x's f16 conversion (PrepareKernel) in the 4096² GEMM at M = 2048, from per-kernel durations under ncu.
source "$(dirname "$0")/common.sh"
echo "=== pocl"; timeout 150 $KG bench --device opencl --m 1,3,17 --shapes 1024x1024,100x512 --schemes q4g128,q4g128s,q8pcs,q3g128,q2g64 --reps 5 --json $OUT/pocl-opencl-o2.json > /tmp/pocl.txt 2>&1; head -3 /tmp/pocl.txt; tail -31 /tmp/pocl.txt | awk '{print $1,$2,$3,$4,$8}'
echo "=== decode"; timeout 240 $KG bench --decode 4 --device cuda --schemes q4g128,q3g128 --reps 50 --warmup 10 --json $OUT/decode-8b-shapes.json 2>&1 | tail -6
echo "=== ncu gemm 4096 M=2048"; which ncu nsys
timeout 150 ncu --launch-skip 0 --launch-count 40 --metrics gpu__time_duration.sum $KG bench --device cuda --shapes 4096x4096 --m 2048 --schemes q4g128 --reps 3 --warmup 1 > /tmp/ncu.txt 2>&1
grep -E '^  [A-Za-z_].*\(|gpu__time_duration' /tmp/ncu.txt | paste - - | awk '{print $1, $(NF)}' | sed 's/(.*//' | tail -40
cp /tmp/ncu.txt $OUT/ncu-gemm-4096-m2048.txt
