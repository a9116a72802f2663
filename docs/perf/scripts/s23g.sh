#!/bin/bash
# Session 23, call 7: the final table's second half on the same build: the other schemes at M = 1 and 16 (the GEMV, v43,
# timed here for the first time as committed).
source "$(dirname "$0")/common.sh"
date +%T; timeout 520 $KG bench --device cuda --m 1,16 --schemes q4g128s,q8pcs,q3g128,q2g64 --reps 30 --json $OUT/final-gemv-schemes.json > $OUT/final-gemv-schemes.txt 2>&1; echo "rc $?"; date +%T; t $OUT/final-gemv-schemes.txt
