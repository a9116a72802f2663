#!/bin/bash
# Session 21, call 8: the committed build (ReadFloor with its checksum mode, the kernels of session 20) on the two
# small shapes, q4g128 and q2g64 at M = 1 and 16: the floors and our times as calls 1–3 measured them.
source "$(dirname "$0")/common.sh"
date +%T; timeout 100 $KG bench --device cuda --m 1,16 --shapes 4096x4096,8192x8192 --schemes q4g128,q2g64 --reps 30 --json $OUT/committed.json > $OUT/committed.txt 2>&1; echo "=== committed rc $?"; t $OUT/committed.txt
date +%T
