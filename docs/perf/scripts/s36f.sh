#!/bin/bash
# Session 36, call 6 (H200): the rule with groups of 2 warps for 4- and 8-bit codes where groups of 4 would not all be
# resident (more than 4 blocks per SM, at most 8) against groups of 4 (KERNELGEN_X8_WARPS=4, the rule before), on three
# grids in that band: 28672x8192 (896 blocks), 32000x4096 (1000, a vocabulary's head), 20480x5120 (640); M = 1, 8, 16,
# int8 x, alternating twice. The bundle is the committed build with the new rule (not kept: WarpsFor taking bits and
# returning 2 for 4- and 8-bit codes where 4 * SMs < blocks <= 8 * SMs).
source "$(dirname "$0")/common.sh"
mkdir -p $OUT/r
g() { local name=$1; shift; env "$@" timeout 150 $KG bench --device cuda --m 1,8,16 --schemes q4g128,q4g128s,q8pcs --int8-x --shapes 28672x8192,32000x4096,20480x5120 --reps 40 > $OUT/r/$name.txt 2>&1; echo "=== $name rc $?"; t $OUT/r/$name.txt | grep -v -E "^empty|^copy"; }
for i in 1 2; do g w4-$i KERNELGEN_X8_WARPS=4; g rule-$i KERNELGEN_NONE=1; done
tar -C $OUT -czf $OUT/s36f.tar.gz r && rm -rf $OUT/r
