#!/bin/bash
# Session 26, call 6 (H200): where the int8-activation GEMV's warps stall: ncu's full set on one launch of q2g64 at M = 1
# on 8192x28672 (one wave), the per-instruction SASS with stall samples (source page) and the raw metrics.
source "$(dirname "$0")/common.sh"
timeout 200 ncu --set full --import-source no -k regex:GemvKernel --launch-skip 3 --launch-count 1 -o /tmp/x8 $KG bench --device cuda --shapes 8192x28672 --m 1 --schemes q2g64 --reps 3 --warmup 1 --int8-x > $OUT/ncu-x8.log 2>&1
echo "=== ncu rc $?"; tail -3 $OUT/ncu-x8.log
ncu -i /tmp/x8.ncu-rep --page source --csv --print-source sass > /tmp/x8-source.csv 2>&1
ncu -i /tmp/x8.ncu-rep --page raw --csv > /tmp/x8-raw.csv 2>&1
ncu -i /tmp/x8.ncu-rep --page details > $OUT/x8-details.txt 2>&1
gzip -c /tmp/x8-source.csv > $OUT/x8-source.csv.gz; gzip -c /tmp/x8-raw.csv > $OUT/x8-raw.csv.gz
grep -E "Duration|Registers|Achieved Occupancy|Issued Warp|Eligible|Active Warps|No Eligible|DRAM Throughput|Memory Throughput" $OUT/x8-details.txt | head -20
date +%T
