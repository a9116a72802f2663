#!/bin/bash
# Session 18, call 5: call 1 timed q3g128 decode steps 1.1 ms slower than q4g128 over 4 layers (4.05 against 2.91 ms),
# far more than their kernels differ. Each scheme in a process of its own, q3g128 first, to tell a kernel or layer cost
# from the state a previous scheme leaves behind (garbage, allocations).
source "$(dirname "$0")/common.sh"
for s in q3g128 q4g128; do timeout 200 $KG bench --decode 4 --device cuda --schemes $s --reps 50 --warmup 10 --json $OUT/decode-8b-shapes-$s-alone.json 2>&1 | tail -2; done
timeout 150 $KG bench --decode 4 --device cuda --schemes q3g128,q4g128 --reps 50 --warmup 10 2>&1 | tail -3
