#!/bin/bash
# Session 23, call 3: where v21's wgmma GEMM spends its time on 4096² at M = 2048: ncu's full set with per-instruction
# stall samples on one launch (and the same for 4096 × 1024, where the fixed costs weigh most).
source "$(dirname "$0")/common.sh"
for k in 4096 1024; do
  timeout 150 ncu --set full --import-source no -k regex:WarpGroupKernel --launch-skip 2 --launch-count 1 -o /tmp/g$k $KG bench --device cuda --shapes 4096x$k --m 2048 --schemes q4g128 --reps 3 --warmup 1 > $OUT/ncu-$k.log 2>&1
  echo "=== $k rc $?"; ncu -i /tmp/g$k.ncu-rep --page source --csv --print-source sass > $OUT/g$k-source.csv 2>&1
  ncu -i /tmp/g$k.ncu-rep > $OUT/g$k-details.txt 2>&1; wc -c $OUT/g$k-source.csv
done
