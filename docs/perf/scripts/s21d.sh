#!/bin/bash
# Session 21, call 4: what M = 16 waits for. ncu's full set on one M = 16 GEMV launch (x prepared as B fragments) of
# q4g128 and q2g64 on 8192×28672 (one wave), the per-instruction SASS with stall samples and the raw metrics.
source "$(dirname "$0")/common.sh"
for s in q4g128 q2g64; do
  timeout 200 ncu --set full --import-source no -k regex:GemvKernel --launch-skip 3 --launch-count 1 -o /tmp/$s $KG bench --device cuda --shapes 8192x28672 --m 16 --schemes $s --reps 3 --warmup 1 > $OUT/ncu-$s.log 2>&1
  ncu -i /tmp/$s.ncu-rep --page source --csv --print-source sass > $OUT/$s-source.csv 2>&1
  ncu -i /tmp/$s.ncu-rep --page raw --csv > $OUT/$s-raw.csv 2>&1
  echo "=== $s"; tail -2 $OUT/ncu-$s.log; wc -c $OUT/$s-source.csv $OUT/$s-raw.csv
done
