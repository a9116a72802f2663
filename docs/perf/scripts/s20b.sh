#!/bin/bash
# Session 20, call 2: the weights asked of L2 a few slabs ahead (KERNELGEN_GEMV_PREFETCH=D, prefetch.global.L2 of
# slab + D at slab, from every lane; s20-prefetch.patch applied to 085f2cd without its later lane predicates).
# ptxas -v of the GEMV kernels at D = 0, 2, 3; then q4g128, q2g64, q3g128 at M = 1 for D = 0, 2, 3, 0.
# (Each bench was cut at 150 s, before 8192×28672 q3g128: the CPU reference of the large shapes takes most of it.)
source "$(dirname "$0")/common.sh"
B=/usr/local/cuda-13.0/bin
for d in 0 2 3; do for f in .devbundle/ptx-p$d/*.ptx; do k=$(basename $f .ptx); r=$(grep -o "maxnreg [0-9]*" $f | awk '{print $2}'); v=$($B/ptxas -arch=sm_90 -O3 -v $f -o /tmp/x.cubin 2>&1 | grep -oE "Used [0-9]+ registers|[0-9]+ bytes spill stores" | tr '\n' ' '); c=$($B/cuobjdump -sass /tmp/x.cubin | grep -cE '^ +/\*[0-9a-f]{4}\*/'); echo "p$d $k cap ${r:-none}: $v sass $c"; done; done | tee $OUT/ptxas.txt
r() { local name=$1; shift; date +%T; env "$@" timeout 150 $KG bench --device cuda --m 1 --schemes q4g128,q2g64,q3g128 --reps 30 --json $OUT/$name.json > $OUT/$name.txt 2>&1; echo "=== $name rc $?"; t $OUT/$name.txt; }
r p0 KERNELGEN_GEMV_PREFETCH=0; r p2 KERNELGEN_GEMV_PREFETCH=2; r p3 KERNELGEN_GEMV_PREFETCH=3; r p0b KERNELGEN_GEMV_PREFETCH=0
date +%T
