#!/bin/bash
# Session 34, call 5 (H200): where 2-bit decode's compute goes. PROBE build (not committed; wrong results on purpose
# where a probe is on): KERNELGEN_X8_PROBE_L2=1 weights from L2 (call 4: q2g64 21.8 us against 24.3 from DRAM);
# KERNELGEN_X8_PROBE bits: 1 x unmasked, 2 two mmas per unit (tiles a, b), 4 no flush. q2g64, int8 x, M = 1, twice.
source "$(dirname "$0")/common.sh"
mkdir -p $OUT/r
S=28672x8192,8192x28672
g() { local name=$1; shift; env "$@" timeout 100 $KG bench --device cuda --m 1 --schemes q2g64 --int8-x --shapes $S --reps 30 > $OUT/r/$name.txt 2>&1; echo "=== $name rc $?"; t $OUT/r/$name.txt | grep -v -E "^empty|^copy"; }
for i in 1 2; do
  for p in 0 1 2 4 7; do g l2-p$p-$i KERNELGEN_X8_PROBE_L2=1 KERNELGEN_X8_PROBE=$p; done
  for p in 0 1 4; do g dram-p$p-$i KERNELGEN_X8_PROBE_L2=0 KERNELGEN_X8_PROBE=$p; done
done
date +%T
tar -C $OUT -czf $OUT/s34e.tar.gz r && rm -rf $OUT/r
