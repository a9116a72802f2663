#!/bin/bash
# Session 34, call 4 (H200): what bounds 2- and 3-bit decode? PROBE build (not committed): KERNELGEN_X8_PROBE_L2=1 makes
# every row block read the weights of the first 8 blocks (L2-resident; wrong results, the bench's check fails on
# purpose), so the kernel's instructions and loads stay and DRAM's access pattern goes. Same build with and without,
# alternating twice; q4g128 as the control.
source "$(dirname "$0")/common.sh"
mkdir -p $OUT/r
S=8192x8192,28672x8192,8192x28672
g() { local name=$1; shift; date +%T; env "$@" timeout 140 $KG bench --device cuda --m 1 --schemes q2g64,q3g128,q4g128 --int8-x --shapes $S --reps 30 > $OUT/r/$name.txt 2>&1; echo "=== $name rc $?"; t $OUT/r/$name.txt | grep -v -E "^empty|^copy"; }
for i in 1 2; do g dram-$i KERNELGEN_X8_PROBE_L2=0; g l2-$i KERNELGEN_X8_PROBE_L2=1; done
date +%T
tar -C $OUT -czf $OUT/s34d.tar.gz r && rm -rf $OUT/r
