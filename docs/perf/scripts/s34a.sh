#!/bin/bash
# Session 34, call 1 (H200): decode's weights through a TMA ring (cp.async.bulk into shared memory, mbarrier per stage;
# KERNELGEN_X8_RING=n slabs per warp) against the register sets (n = 0), int8 x, M = 1, alternating twice.
# Needs s34-tma-ring.patch applied to eb25b4c.
source "$(dirname "$0")/common.sh"
mkdir -p $OUT/r
S=4096x4096,8192x8192,28672x8192,8192x28672
g() { local name=$1 ring=$2 schemes=$3; date +%T; KERNELGEN_X8_RING=$ring timeout 150 $KG bench --device cuda --m 1 --schemes $schemes --int8-x --shapes $S --reps 30 > $OUT/r/$name.txt 2>&1; echo "=== $name rc $?"; t $OUT/r/$name.txt | grep -v -E "^empty"; }
for i in 1 2; do for r in 0 2 3 4; do g ring$r-$i $r q2g64,q3g128,q4g128; done; done
date +%T
tar -C $OUT -czf $OUT/s34a.tar.gz r && rm -rf $OUT/r
