#!/bin/bash
# Session 19, call 1: the offset decode (v36) at M = 1. ptxas -v of the M = 1 GEMV kernels with it (on), without
# (off: KERNELGEN_GEMV_OFFSET=0) and with offsets at positions 0-6 (nolift: KERNELGEN_GEMV_LIFT=0); then q4g128,
# q3g128, q2g64 at M = 1 on the issue's shapes: on, off, nolift.
source "$(dirname "$0")/common.sh"
B=/usr/local/cuda-13.0/bin
for d in on off nolift; do for k in B4G0Single B2G4Single B3G8Single; do f=.devbundle/ptx-s19-$d/TensorCoreGemv.GemvKernel.$k.ptx; r=$(grep -o "maxnreg [0-9]*" $f | awk '{print $2}'); v=$($B/ptxas -arch=sm_90 -O3 -v $f -o /tmp/x.cubin 2>&1 | grep -oE "Used [0-9]+ registers|[0-9]+ bytes spill stores" | tr '\n' ' '); c=$($B/cuobjdump -sass /tmp/x.cubin | grep -cE '^ +/\*[0-9a-f]{4}\*/'); echo "$d $k cap ${r:-none}: $v sass $c"; done; done | tee $OUT/ptxas.txt
r() { local name=$1; shift; date +%T; env "$@" timeout 200 $KG bench --device cuda --m 1 --schemes q4g128,q3g128,q2g64 --reps 30 --json $OUT/$name.json > $OUT/$name.txt 2>&1; echo "=== $name rc $?"; t $OUT/$name.txt; }
r on X=1; r off KERNELGEN_GEMV_OFFSET=0; r nolift KERNELGEN_GEMV_LIFT=0
