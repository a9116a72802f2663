#!/bin/bash
# Session 31, call 9 (H200): does int8 x pay on 4096² (128 row blocks, 132 SMs) now? The rule (f16 there but for 2- and
# 3-bit decode) against KERNELGEN_X8_ALWAYS=1, alternating twice, M = 1, 2, 8, 16.
source "$(dirname "$0")/common.sh"
unset KERNELGEN_KERNEL_CACHE
r() { local name=$1; shift; date +%T; timeout 100 env "$@" $KG bench --device cuda --int8-x --reps 30 --m 1,2,8,16 --schemes q4g128,q4g128s,q3g128,q2g64 --shapes 4096x4096 > $OUT/$name.txt 2>&1; echo "=== $name rc $?"; t $OUT/$name.txt | grep -v -E "^empty|^copy"; }
for i in 1 2; do r rule-$i KERNELGEN_X8_ALWAYS=0; r always-$i KERNELGEN_X8_ALWAYS=1; done
date +%T
