#!/bin/bash
# Session 19, call 5: with the offset decode (v36) the 2-bit M = 1 kernel spills 32 bytes under its cap; does the
# cp.async ring (KERNELGEN_GEMV_STAGES=2, which frees the weights' registers) pay now? q2g64 M = 1: rule, ring, rule, ring.
source "$(dirname "$0")/common.sh"
r() { local name=$1; shift; env "$@" timeout 120 $KG bench --device cuda --m 1 --schemes q2g64 --reps 30 --json $OUT/$name.json > $OUT/$name.txt 2>&1; echo "=== $name"; t $OUT/$name.txt; }
r q2-rule-a X=1; r q2-ring-a KERNELGEN_GEMV_STAGES=2; r q2-rule-b X=1; r q2-ring-b KERNELGEN_GEMV_STAGES=2
