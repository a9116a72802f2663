#!/bin/bash
# Session 32, call 3 (H200): call 2's f16 run again with room for its compiles (it ran out of its 120 s there): the
# committed build (f0e8aae) with f16 x, the five schemes at M = 1, 2, 8, 16 (9e20541's f16 change timed as committed).
source "$(dirname "$0")/common.sh"
unset KERNELGEN_KERNEL_CACHE
date +%T; timeout 420 $KG bench --device cuda --m 1,2,8,16 --reps 30 --json $OUT/f16.json > $OUT/f16.txt 2>&1; echo "=== f16 rc $?"; t $OUT/f16.txt | grep -v -E "^empty"
date +%T
