#!/bin/bash
# Session 20, call 3: the L2 prefetch again, without per-lane duplicates. lines: prefetch.global.L2 from lanes 0, 8,
# 16, 24 only (one per 128-byte line); bulk: cp.async.bulk.prefetch.L2 of each tile's 512 bytes from lanes 0-3 (sm_90a).
# ptxas -v of the M = 1 kernels; then q4g128 and q2g64 at M = 1 on 8192² and 8192×28672: off, lines 2, bulk 2, bulk 3, off.
source "$(dirname "$0")/common.sh"
B=/usr/local/cuda-13.0/bin
for d in p0 p2 b2; do for f in .devbundle/ptx-$d/*.ptx; do k=$(basename $f .ptx); v=$($B/ptxas -arch=sm_90a -O3 -v $f -o /tmp/x.cubin 2>&1 | grep -oE "Used [0-9]+ registers|[0-9]+ bytes spill stores|rror.*" | tr '\n' ' '); c=$($B/cuobjdump -sass /tmp/x.cubin | grep -cE '^ +/\*[0-9a-f]{4}\*/'); echo "$d $k: $v sass $c"; done; done | tee $OUT/ptxas.txt
r() { local name=$1; shift; date +%T; env "$@" timeout 120 $KG bench --device cuda --m 1 --shapes 8192x8192,8192x28672 --schemes q4g128,q2g64 --reps 30 --json $OUT/$name.json > $OUT/$name.txt 2>&1; echo "=== $name rc $?"; t $OUT/$name.txt; }
r off KERNELGEN_GEMV_PREFETCH=0; r lines2 KERNELGEN_GEMV_PREFETCH=2; r bulk2 KERNELGEN_GEMV_PREFETCH=2 KERNELGEN_GEMV_PREFETCHMODE=bulk; r bulk3 KERNELGEN_GEMV_PREFETCH=3 KERNELGEN_GEMV_PREFETCHMODE=bulk; r off2 KERNELGEN_GEMV_PREFETCH=0
date +%T
