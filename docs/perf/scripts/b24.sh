#!/bin/bash
# v34 rule on K = 4096 shapes (fused qkv 6144x4096, gate/up 14336x4096, fused gate+up 28672x4096): q3g128 M = 1, 16 staged (rule) vs registers (KERNELGEN_GEMV_STAGES=0), rule twice.
source "$(dirname "$0")/common.sh"
r() { local name=$1; shift; env "$@" $KG bench --device cuda --m 1,16 --shapes 6144x4096,14336x4096,28672x4096 --schemes q3g128 --reps 30 --json $OUT/$name.json > /tmp/$name.txt 2>&1; echo "=== $name"; t /tmp/$name.txt; }
r k4096-rule-a X=1; r k4096-st0 KERNELGEN_GEMV_STAGES=0; r k4096-rule-b X=1
