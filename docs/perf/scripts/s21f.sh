#!/bin/bash
# Needs docs/perf/scripts/s21-xahead.patch applied (KERNELGEN_GEMV_XAHEAD; reverted after this call).
# Session 21, call 6: v39, prepared x asked of L1 (prefetch.global.L1) some words ahead of its load at M > 8
# (KERNELGEN_GEMV_XAHEAD = words; 0 = off, the same binary). ncu (call 4) put 33 % of M = 16's samples on two
# instructions waiting for x's loads, issued ~60 instructions before their use.
source "$(dirname "$0")/common.sh"
r() { local name=$1 shapes=$2 schemes=$3; shift 3; date +%T; env "$@" timeout 130 $KG bench --device cuda --m 16 --shapes $shapes --schemes $schemes --reps 30 --json $OUT/$name.json > $OUT/$name.txt 2>&1; echo "=== $name rc $?"; t $OUT/$name.txt; }
r q4-a0 8192x8192,28672x8192,8192x28672 q4g128 KERNELGEN_GEMV_XAHEAD=0
r q4-a4 8192x8192,28672x8192,8192x28672 q4g128 KERNELGEN_GEMV_XAHEAD=4
r q4-a8 8192x8192,28672x8192,8192x28672 q4g128 KERNELGEN_GEMV_XAHEAD=8
r q23-a0 8192x28672 q2g64,q3g128 KERNELGEN_GEMV_XAHEAD=0
r q23-a4 8192x28672 q2g64,q3g128 KERNELGEN_GEMV_XAHEAD=4
date +%T
