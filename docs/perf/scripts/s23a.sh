#!/bin/bash
# Session 23, call 1: does the wgmma GEMM pay a fixed cost per block? q4g128 at M = 2048 on 4096 × K for K = 1024 …
# 16384 (512 blocks, two waves, each block 64 … 1024 k-blocks): the bench's totals, each kernel's own duration under
# ncu with the clocks left alone, and ncu's full set with per-instruction stall samples on one launch at K = 1024.
source "$(dirname "$0")/common.sh"
S=4096x1024,4096x2048,4096x4096,4096x8192,4096x16384
timeout 120 $KG bench --device cuda --m 2048 --shapes $S --schemes q4g128 --reps 20 --json $OUT/ksweep.json > $OUT/ksweep.txt 2>&1; echo "=== bench rc $?"; t $OUT/ksweep.txt
timeout 150 ncu --clock-control none -k regex:"WarpGroupKernel|PrepareKernel" --launch-count 40 --metrics gpu__time_duration.sum,sm__cycles_active.avg,smsp__inst_executed.sum $KG bench --device cuda --m 2048 --shapes $S --schemes q4g128 --reps 2 --warmup 1 > $OUT/ksweep-ncu.txt 2>&1
echo "=== ncu rc $?"; grep -E '^  [A-Za-z_].*\(|gpu__time_duration|sm__cycles_active|inst_executed' $OUT/ksweep-ncu.txt | paste - - - - | awk '{print $1, $(NF-8), $(NF-4), $(NF)}' | sed 's/(.*//' 
timeout 150 ncu --set full --import-source no -k regex:WarpGroupKernel --launch-skip 2 --launch-count 1 -o /tmp/g1024 $KG bench --device cuda --shapes 4096x1024 --m 2048 --schemes q4g128 --reps 3 --warmup 1 > $OUT/ncu-full.log 2>&1
echo "=== full rc $?"; ncu -i /tmp/g1024.ncu-rep --page source --csv --print-source sass > $OUT/g1024-source.csv 2>&1
ncu -i /tmp/g1024.ncu-rep --page raw --csv > $OUT/g1024-raw.csv 2>&1
ncu -i /tmp/g1024.ncu-rep > $OUT/g1024-details.txt 2>&1; wc -c $OUT/*.csv
