#!/bin/bash
# Session 34, call 2 (H200): the ring frees the register set that held the next slab's weights, so fewer registers per
# thread (more warps per SM) may now fit without spilling: KERNELGEN_X8_RING in {0, 2, 3} x KERNELGEN_X8_MAXNREG in
# {128, 96, 80}, q2g64 and q3g128 with int8 x, M = 1; then the two best-looking again.
# Needs s34-tma-ring.patch applied to eb25b4c.
source "$(dirname "$0")/common.sh"
mkdir -p $OUT/r
S=8192x8192,28672x8192,8192x28672
g() { local name=$1 ring=$2 nreg=$3; date +%T; KERNELGEN_X8_RING=$ring KERNELGEN_X8_MAXNREG=$nreg timeout 120 $KG bench --device cuda --m 1 --schemes q2g64,q3g128 --int8-x --shapes $S --reps 30 > $OUT/r/$name.txt 2>&1; echo "=== $name rc $?"; t $OUT/r/$name.txt | grep -v -E "^empty|^copy"; }
for n in 128 96 80; do for r in 0 2 3; do g r$r-n$n-1 $r $n; done; done
for n in 128 96 80; do for r in 0 2 3; do g r$r-n$n-2 $r $n; done; done
date +%T
tar -C $OUT -czf $OUT/s34b.tar.gz r && rm -rf $OUT/r
