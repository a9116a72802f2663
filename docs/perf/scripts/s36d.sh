#!/bin/bash
# Session 36, call 4 (H200): warps per group for int8 decode on the large shapes, the committed build (ec78c5a) with
# KERNELGEN_X8_WARPS = the rule (4 on 28672x8192: 896 blocks; 8 on 8192x28672: 256 blocks), 4, 8, 16, alternating twice.
# Since session 26 chose 4 warps where blocks outnumber two per SM (2-bit: 24.4 against 25.7 µs at 8), the 2- and 3-bit
# kernels changed (v48, v49) and 3-bit was not compared.
source "$(dirname "$0")/common.sh"
mkdir -p $OUT/r
g() { local name=$1; shift; env "$@" timeout 120 $KG bench --device cuda --m 1 --schemes q3g128,q2g64,q4g128 --int8-x --shapes 28672x8192,8192x28672 --reps 40 > $OUT/r/$name.txt 2>&1; echo "=== $name rc $?"; t $OUT/r/$name.txt | grep -v -E "^empty|^copy"; }
for i in 1 2; do g rule-$i KERNELGEN_NONE=1; g w4-$i KERNELGEN_X8_WARPS=4; g w8-$i KERNELGEN_X8_WARPS=8; g w16-$i KERNELGEN_X8_WARPS=16; done
tar -C $OUT -czf $OUT/s36d.tar.gz r && rm -rf $OUT/r
