#!/bin/bash
# Session 19, call 4: what bounds M = 1 after v36? ncu's scheduler, warp-state and occupancy sections for one GEMV
# launch of q2g64 and q4g128 on 28672×8192 (the profiler locks clocks, so its durations run long).
source "$(dirname "$0")/common.sh"
for s in q2g64 q4g128; do
  timeout 150 ncu -k regex:Gemv --launch-skip 3 --launch-count 1 --section SpeedOfLight --section SchedulerStats --section WarpStateStats --section Occupancy $KG bench --device cuda --shapes 28672x8192 --m 1 --schemes $s --reps 3 --warmup 1 > $OUT/ncu-$s-m1.txt 2>&1
  echo "=== $s"; grep -E "Duration|DRAM Throughput|Memory Throughput|Issued Warp|No Eligible|Active Warps Per|Eligible Warps|Warp Cycles Per Issued|Achieved Occupancy|Registers Per|Stall|Block Limit" $OUT/ncu-$s-m1.txt | sed 's/  */ /g' | head -30
done
