#!/bin/bash
# Session 31, call 5 (H200): ncu's source page (SASS with stall samples) of the int8 batch after call 4's change, q4g128
# at M = 16 on 28672x8192, as call 2 took it of the committed build.
source "$(dirname "$0")/common.sh"
s=q4g128
timeout 200 ncu --set full --import-source no -k regex:BatchKernel --launch-skip 3 --launch-count 1 -o /tmp/$s $KG bench --device cuda --shapes 28672x8192 --m 16 --schemes $s --reps 3 --warmup 1 --int8-x > $OUT/ncu-$s.log 2>&1
echo "=== ncu $s rc $?"; tail -2 $OUT/ncu-$s.log
ncu -i /tmp/$s.ncu-rep --page source --csv --print-source sass > /tmp/$s-source.csv 2>&1
ncu -i /tmp/$s.ncu-rep --page details > $OUT/$s-details.txt 2>&1
gzip -c /tmp/$s-source.csv > $OUT/$s-source.csv.gz
grep -E "Duration|Registers Per|Issued Warp|Eligible Warps|DRAM Throughput|Issue Slots" $OUT/$s-details.txt | head -20
