#!/bin/bash
# Session 31, call 3 (H200): the int8 batch's weights asked of L2 (prefetch.global.L2, lanes 0-15 one 128-byte line
# each of a slab's four tiles) KERNELGEN_X8_L2AHEAD slabs past the one loaded into registers: 0 (none), 1, 2, 3,
# alternating twice; M = 16 (and q2g64, 2-bit) on the three grids of more row blocks than SMs.
source "$(dirname "$0")/common.sh"
unset KERNELGEN_KERNEL_CACHE
S=8192x8192,28672x8192,8192x28672
for i in 1 2; do
  for d in 0 1 2 3; do
    date +%T; KERNELGEN_X8_L2AHEAD=$d timeout 100 $KG bench --device cuda --m 16 --schemes q4g128,q4g128s,q2g64 --int8-x --shapes $S --reps 30 > $OUT/ahead$d-$i.txt 2>&1; echo "=== ahead=$d run $i rc $?"; t $OUT/ahead$d-$i.txt | grep -v -E "^empty|rror|^copy"
  done
done
date +%T
