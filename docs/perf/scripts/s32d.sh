#!/bin/bash
# Session 32, call 4 (H200): (1) 2- and 3-bit batches of 2 and 8 rows with both unit pairs' x and group constants asked
# for at the top of their slab (KERNELGEN_X8_XAHEAD=1) against each pair at its own top, alternating twice; (2) 4096²
# (128 blocks on 132 SMs, one group of 8 warps per SM) with 16 warps per group (KERNELGEN_X8_WARPS=16) against 8, int8
# forced, 4- and 8-bit at M = 1, 2, 8, 16, alternating twice. Both switches are kernel type arguments, so the cache of
# compiled kernels tells them apart.
source "$(dirname "$0")/common.sh"
r() { local name=$1; shift; date +%T; timeout 100 $KG bench --device cuda --int8-x --reps 30 "$@" > $OUT/$name.txt 2>&1; echo "=== $name rc $?"; t $OUT/$name.txt | grep -v -E "^empty|^copy"; }
S=8192x8192,28672x8192,8192x28672
for i in 1 2; do
  KERNELGEN_X8_XAHEAD=0 r top-$i --m 2,8 --schemes q2g64,q3g128 --shapes $S
  KERNELGEN_X8_XAHEAD=1 r ahead-$i --m 2,8 --schemes q2g64,q3g128 --shapes $S
done
export KERNELGEN_X8_ALWAYS=1
for i in 1 2; do
  r w8-$i --m 1,2,8,16 --schemes q4g128,q4g128s,q8pcs --shapes 4096x4096
  KERNELGEN_X8_WARPS=16 r w16-$i --m 1,2,8,16 --schemes q4g128,q4g128s,q8pcs --shapes 4096x4096
done
date +%T
