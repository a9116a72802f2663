#!/bin/bash
# Session 27, call 9 (H200): the final review's build (x's rounding for batches writes 8 rows of x where M <= 8, not 16):
# q4g128s at M = 2, 8, 16 with --int8-x against float64.
source "$(dirname "$0")/common.sh"
timeout 120 $KG bench --device cuda --m 2,8,16 --shapes 8192x8192,28672x8192 --schemes q4g128s --reps 30 --int8-x --json $OUT/x8.json > $OUT/x8.txt 2>&1; echo "=== x8 rc $?"; t $OUT/x8.txt
grep -o "M=[0-9]* .*rounded to int8: [0-9.E-]*" $OUT/x8.txt | sed 's/ \[.*rounded to int8:/ rounded err/'
