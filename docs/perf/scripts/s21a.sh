#!/bin/bash
# Session 21, call 1: the floors at each size. The bench now times, beside every case, an empty launch and a kernel
# that only reads the case's bytes (ReadFloor), with the same start and events. A K sweep on 8192 rows (q4g128,
# M = 1 and 16) fits t = a + bytes / bandwidth; ncu with the clocks left alone gives each kernel's own duration, so the
# events' share of a small case is known.
source "$(dirname "$0")/common.sh"
date +%T
timeout 170 $KG bench --device cuda --m 1,16 --shapes 4096x4096,8192x2048,8192x4096,8192x8192,8192x16384 --schemes q4g128 --reps 30 --json $OUT/sweep.json > $OUT/sweep.txt 2>&1; echo "=== sweep rc $?"
date +%T
timeout 150 $KG bench --device cuda --m 1 --shapes 8192x8192,8192x28672 --schemes q2g64,q8pcs --reps 30 --json $OUT/schemes.json > $OUT/schemes.txt 2>&1; echo "=== schemes rc $?"
date +%T
timeout 150 ncu --clock-control none --metrics gpu__time_duration.sum -k regex:'GemvKernel|ReadKernel' $KG bench --device cuda --m 1 --shapes 4096x4096,8192x8192 --schemes q4g128 --reps 8 --warmup 2 > $OUT/ncu.txt 2>&1; echo "=== ncu rc $?"
date +%T
grep -E '^(empty|copy)' $OUT/sweep.txt $OUT/schemes.txt
sed -n '/^scheme/,$p' $OUT/sweep.txt $OUT/schemes.txt
grep -E 'GemvKernel|ReadKernel|gpu__time_duration' $OUT/ncu.txt | awk '/Kernel/{k=$1} /gpu__time/{print k, $NF}' | sort | uniq -c | head -40
