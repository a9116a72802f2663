#!/bin/bash
# Session 31, call 2 (H200): where the int8 batch's warps wait at M = 16: ncu's full set on one launch of the batch
# kernel for q4g128 and q4g128s on 28672x8192 (3.4 waves), the per-instruction SASS with stall samples and the details.
source "$(dirname "$0")/common.sh"
for s in q4g128 q4g128s; do
  date +%T
  timeout 200 ncu --set full --import-source no -k regex:BatchKernel --launch-skip 3 --launch-count 1 -o /tmp/$s $KG bench --device cuda --shapes 28672x8192 --m 16 --schemes $s --reps 3 --warmup 1 --int8-x > $OUT/ncu-$s.log 2>&1
  echo "=== ncu $s rc $?"; tail -2 $OUT/ncu-$s.log
  ncu -i /tmp/$s.ncu-rep --page source --csv --print-source sass > /tmp/$s-source.csv 2>&1
  ncu -i /tmp/$s.ncu-rep --page details > $OUT/$s-details.txt 2>&1
  ncu -i /tmp/$s.ncu-rep --page raw --csv > /tmp/$s-raw.csv 2>&1
  gzip -c /tmp/$s-source.csv > $OUT/$s-source.csv.gz; gzip -c /tmp/$s-raw.csv > $OUT/$s-raw.csv.gz
  grep -E "Duration|Registers Per|Achieved Occupancy|Issued Warp|Eligible|Active Warps|No Eligible|DRAM Throughput|Memory Throughput|Executed Ipc|Issue Slots" $OUT/$s-details.txt | head -20
done
date +%T
