#!/bin/bash
# Session 20, call 1: where the M = 1 GEMV's warps stall. ncu's full set on one launch of q2g64 and q4g128 at M = 1 on
# 8192×28672 (one wave: no tail), the per-instruction SASS with stall samples (source page) and the raw metrics.
source "$(dirname "$0")/common.sh"
for s in q2g64 q4g128; do
  timeout 200 ncu --set full --import-source no -k regex:GemvKernel --launch-skip 3 --launch-count 1 -o /tmp/$s $KG bench --device cuda --shapes 8192x28672 --m 1 --schemes $s --reps 3 --warmup 1 > $OUT/ncu-$s.log 2>&1
  ncu -i /tmp/$s.ncu-rep --page source --csv --print-source sass > $OUT/$s-source.csv 2>&1
  ncu -i /tmp/$s.ncu-rep --page raw --csv > $OUT/$s-raw.csv 2>&1
  echo "=== $s"; tail -2 $OUT/ncu-$s.log; wc -c $OUT/$s-source.csv $OUT/$s-raw.csv
done
