#!/bin/bash
# Session 31, call 1 (H200): probe (s31-l1-probe.patch, not committed): the int8 batch kernel with x's words and
# metadata and the group constants read from the first two unit pairs' addresses (L1 hits, wrong results), against
# the same binary with the probe off, alternating twice: the most that staging x and the group constants a slab or two
# ahead (through shared memory) could take off M = 16.
source "$(dirname "$0")/common.sh"
unset KERNELGEN_KERNEL_CACHE
S=8192x8192,28672x8192,8192x28672
for i in 1 2; do
  for p in 0 1; do
    date +%T; KERNELGEN_X8_PROBE=$p timeout 130 $KG bench --device cuda --m 16 --schemes q4g128,q4g128s --int8-x --shapes $S --reps 30 > $OUT/probe$p-$i.txt 2>&1; echo "=== probe=$p run $i rc $?"; t $OUT/probe$p-$i.txt | grep -v -E "^empty|rror"
  done
done
date +%T
