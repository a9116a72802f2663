#!/bin/bash
# Session 26, call 8 (H200): warps per group of the int8-activation GEMV: the rule (16 where blocks <= SMs, 8 up to
# two per SM, else 4) against 8 everywhere (call 7's kernel), 4 and 16 everywhere (KERNELGEN_X8_WARPS), q2g64, M = 1.
source "$(dirname "$0")/common.sh"
r() { local name=$1; shift; date +%T; timeout 100 $KG bench --device cuda --m 1 --schemes q2g64 --reps 30 --int8-x "$@" --json $OUT/$name.json > /tmp/$name.txt 2>&1; echo "=== $name rc $?"; t /tmp/$name.txt | grep -v -E "^copy|^empty" | tee -a $OUT/runs.txt; }
r rule-a; KERNELGEN_X8_WARPS=8 r w8-a; KERNELGEN_X8_WARPS=4 r w4; KERNELGEN_X8_WARPS=16 r w16; r rule-b; KERNELGEN_X8_WARPS=8 r w8-b
save_cache
date +%T
