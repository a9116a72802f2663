#!/bin/bash
# Session 24, call 3 (H200): does the faster memory want more bytes in flight? The committed build (8bd9345) under
# KERNELGEN_GEMV_STAGES: the rule (4- and 8-bit weights in registers, one slab ahead at M = 16, two at M = 1), then every
# variant through the cp.async ring with 3 stages (two slabs ahead, no registers) and 2, then the rule again.
source "$(dirname "$0")/common.sh"
r() { local name=$1; shift; date +%T; echo "=== $name" >> $OUT/stages.txt; env "$@" timeout 150 $KG bench --device cuda --m 1,16 --shapes 8192x8192,28672x8192,8192x28672 --schemes q4g128,q8pcs --reps 30 > /tmp/$name.txt 2>&1; echo "=== $name rc $?"; t /tmp/$name.txt | tee -a $OUT/stages.txt; }
r rule1 X=1; r stages3 KERNELGEN_GEMV_STAGES=3; r stages2 KERNELGEN_GEMV_STAGES=2; r rule2 X=1
date +%T
