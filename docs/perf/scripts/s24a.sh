#!/bin/bash
# Session 24, call 1: the first call on an NVIDIA H200 (the H100 is no longer lent). The issue's whole table on the
# committed build 8bd9345: q4g128 at M = 1, 16, 128, 2048 with PyTorch's peers in the same call, the other schemes at
# M = 128 and 2048 (GEMM) and at M = 1 and 16 (GEMV); then ncu's full set on one wgmma launch (4096², M = 2048), the
# profile session 23 did not take after v25.
source "$(dirname "$0")/common.sh"
date +%T; timeout 150 $KG bench --device cuda --m 1,16,128,2048 --schemes q4g128 --reps 30 --json $OUT/q4.json > $OUT/q4.txt 2>&1; echo "=== q4 rc $?"; t $OUT/q4.txt
date +%T; timeout 150 python3 .devbundle/torch_anchors.py > $OUT/torch-anchors.txt 2>&1; echo "=== anchors rc $?"; grep -v tinygemm $OUT/torch-anchors.txt | head -40
date +%T; timeout 150 $KG bench --device cuda --m 128,2048 --schemes q4g128s,q8pcs,q3g128,q2g64 --reps 30 --json $OUT/gemm-schemes.json > $OUT/gemm-schemes.txt 2>&1; echo "=== gemm rc $?"; t $OUT/gemm-schemes.txt
date +%T; timeout 300 $KG bench --device cuda --m 1,16 --schemes q4g128s,q8pcs,q3g128,q2g64 --reps 30 --json $OUT/gemv-schemes.json > $OUT/gemv-schemes.txt 2>&1; echo "=== gemv rc $?"; t $OUT/gemv-schemes.txt
date +%T; timeout 90 ncu --clock-control none --set full --import-source no -k regex:WarpGroupKernel --launch-skip 2 --launch-count 1 -o /tmp/g4096 $KG bench --device cuda --shapes 4096x4096 --m 2048 --schemes q4g128 --reps 3 --warmup 1 > /tmp/ncu.log 2>&1
echo "=== ncu rc $?"; ncu -i /tmp/g4096.ncu-rep --page source --csv --print-source sass > /tmp/src.csv 2>&1; python3 .devbundle/ncu_source_summary.py /tmp/src.csv > $OUT/ncu-4096.txt 2>&1
ncu -i /tmp/g4096.ncu-rep >> $OUT/ncu-4096.txt 2>&1; date +%T
