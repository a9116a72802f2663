#!/bin/bash
# Session 36, call 5 (H200): groups of 2 warps on 28672x8192 (896 blocks: 1792 warps, all resident at once, 16 slabs
# each) against the rule's 4 (3584 warps: 1.7 waves of 16 per SM, 8 slabs each). The bundle is ec78c5a with
# KERNELGEN_X8_WARPS accepting 2. M = 1 and 16, int8 x, alternating twice.
source "$(dirname "$0")/common.sh"
mkdir -p $OUT/r
g() { local name=$1; shift; env "$@" timeout 150 $KG bench --device cuda --m 1,16 --schemes q3g128,q2g64,q4g128,q4g128s,q8pcs --int8-x --shapes 28672x8192 --reps 40 > $OUT/r/$name.txt 2>&1; echo "=== $name rc $?"; t $OUT/r/$name.txt | grep -v -E "^empty|^copy"; }
for i in 1 2; do g rule-$i KERNELGEN_NONE=1; g w2-$i KERNELGEN_X8_WARPS=2; done
tar -C $OUT -czf $OUT/s36e.tar.gz r && rm -rf $OUT/r
