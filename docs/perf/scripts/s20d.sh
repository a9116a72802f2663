#!/bin/bash
# Session 20, call 4: 16-warp groups where the row blocks do not outnumber the SMs (v38). ptxas -v of the wide M = 1
# and M = 16 kernels (cap 128); then q4g128, q4g128s, q8pcs, q2g64 at M = 1 and 16 on 4096² and 4096×14336: wide
# (default), narrow (KERNELGEN_GEMV_WIDE=0: 8 warps, as before), wide again.
source "$(dirname "$0")/common.sh"
B=/usr/local/cuda-13.0/bin
for f in .devbundle/ptx/TensorCoreGemv.GemvKernel.*.ptx; do k=$(basename $f .ptx); r=$(grep -o "maxnreg [0-9]*" $f | awk '{print $2}'); v=$($B/ptxas -arch=sm_90 -O3 -v $f -o /tmp/x.cubin 2>&1 | grep -oE "Used [0-9]+ registers|[0-9]+ bytes spill stores" | tr '\n' ' '); c=$($B/cuobjdump -sass /tmp/x.cubin | grep -cE '^ +/\*[0-9a-f]{4}\*/'); echo "$k cap ${r:-none}: $v sass $c"; done | tee $OUT/ptxas.txt
r() { local name=$1; shift; date +%T; env "$@" timeout 150 $KG bench --device cuda --m 1,16 --shapes 4096x4096,4096x14336 --schemes q4g128,q4g128s,q8pcs,q2g64 --reps 30 --json $OUT/$name.json > $OUT/$name.txt 2>&1; echo "=== $name rc $?"; t $OUT/$name.txt; }
r wide X=1; r narrow KERNELGEN_GEMV_WIDE=0; r wide2 X=1
date +%T
