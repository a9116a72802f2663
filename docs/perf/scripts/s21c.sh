#!/bin/bash
# Session 21, call 3: the other schemes at M = 1 and 16 for the session's table, with the read floor beside each case.
source "$(dirname "$0")/common.sh"
date +%T; timeout 500 $KG bench --device cuda --m 1,16 --schemes q4g128s,q8pcs,q3g128,q2g64 --reps 30 --json $OUT/final-schemes.json > $OUT/final-schemes.txt 2>&1; echo "rc $?"; date +%T; t $OUT/final-schemes.txt
