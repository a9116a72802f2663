#!/bin/bash
# Session 35, call 4 (H200): where v48's decode waits: ncu's full set on one launch of the int8 decode kernel for
# q2g64 and q3g128 on 28672x8192 (M = 1, int8 x), the per-instruction SASS with stall samples and the details.
# Needs call 3's bundle (the committed code).
source "$(dirname "$0")/common.sh"
for s in q2g64 q3g128; do
  date +%T
  timeout 200 ncu --set full --import-source no -k regex:GemvKernel --launch-skip 3 --launch-count 1 -o /tmp/$s $KG bench --device cuda --shapes 28672x8192 --m 1 --schemes $s --reps 3 --warmup 1 --int8-x > $OUT/ncu-$s.log 2>&1
  echo "=== ncu $s rc $?"; tail -2 $OUT/ncu-$s.log
  ncu -i /tmp/$s.ncu-rep --page source --csv --print-source sass > /tmp/$s-source.csv 2>&1
  ncu -i /tmp/$s.ncu-rep --page details > $OUT/$s-details.txt 2>&1
  gzip -c /tmp/$s-source.csv > $OUT/$s-source.csv.gz
  grep -E "Duration|Registers Per|Achieved Occupancy|Issued Warp|Eligible|Active Warps|No Eligible|DRAM Throughput|Memory Throughput|Executed Ipc|Issue Slots" $OUT/$s-details.txt | head -20
done
date +%T
