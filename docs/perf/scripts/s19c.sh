#!/bin/bash
# Session 19, call 3: the other schemes at M = 1 and 16 for the session's table (q2g64 at M = 1 now decodes with
# offsets, v36).
source "$(dirname "$0")/common.sh"
date +%T; timeout 560 $KG bench --device cuda --m 1,16 --schemes q4g128s,q8pcs,q3g128,q2g64 --reps 30 --json $OUT/final-schemes.json > $OUT/final-schemes.txt 2>&1; echo "rc $?"; date +%T; t $OUT/final-schemes.txt
# The 8192×28672 GEMM at M = 2048 read 1841.7 µs in call 2 (session 18: 1784.9): twice more, and its two kernels under ncu.
for i in 1 2; do timeout 60 $KG bench --device cuda --shapes 8192x28672 --m 2048 --schemes q4g128 --reps 30 > /tmp/g$i.txt 2>&1; t /tmp/g$i.txt; cp /tmp/g$i.txt $OUT/gemm-8192x28672-m2048-$i.txt; done
timeout 100 ncu --launch-count 8 --metrics gpu__time_duration.sum $KG bench --device cuda --shapes 8192x28672 --m 2048 --schemes q4g128 --reps 3 --warmup 1 > /tmp/ncu.txt 2>&1
grep -E '^  [A-Za-z_].*\(|gpu__time_duration' /tmp/ncu.txt | paste - - | awk '{print $1, $(NF)}' | sed 's/(.*//' | tail -8; cp /tmp/ncu.txt $OUT/ncu-gemm-8192x28672-m2048.txt
