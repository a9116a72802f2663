#!/bin/bash
# Session 27, call 7 (H200): the review's build (one loader for both int8 GEMV kernels): every int8 kernel form against
# float64 (q4g128, q4g128s, q3g128, q2g64 at M = 1, 8, 16 with --int8-x on two shapes).
source "$(dirname "$0")/common.sh"
date +%T; timeout 200 $KG bench --device cuda --m 1,8,16 --shapes 8192x8192,28672x8192 --schemes q4g128,q4g128s,q3g128,q2g64 --reps 20 --int8-x --json $OUT/x8.json > $OUT/x8.txt 2>&1; echo "=== x8 rc $?"; t $OUT/x8.txt
date +%T
