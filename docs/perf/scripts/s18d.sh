#!/bin/bash
# Session 18, call 4: the other schemes at M = 1 and 16 (calls 2 and 3 cut them off at 150 and 300 s), log kept.
source "$(dirname "$0")/common.sh"
date +%T; timeout 560 $KG bench --device cuda --m 1,16 --schemes q4g128s,q8pcs,q3g128,q2g64 --reps 30 --json $OUT/final-schemes.json > $OUT/final-schemes.txt 2>&1; echo "rc $?"; date +%T; t $OUT/final-schemes.txt
