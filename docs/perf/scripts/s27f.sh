#!/bin/bash
# Session 27, call 8 (H200): small batches (M = 2, 4) of q4g128 and q4g128s with f16 x and with --int8-x, on the three
# shapes where Int8ActivationGemv.Pays picks the int8 form (the review's build, 6a9e6e4).
source "$(dirname "$0")/common.sh"
r() { local name=$1; shift; timeout 120 $KG bench --device cuda --m 2,4 --shapes 8192x8192,28672x8192,8192x28672 --schemes q4g128,q4g128s --reps 30 "$@" --json $OUT/$name.json > $OUT/$name.txt 2>&1; echo "=== $name rc $?"; t $OUT/$name.txt; }
r f16; r x8 --int8-x
