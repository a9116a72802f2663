#!/bin/bash
# v34 probe: 3-bit codes through the cp.async ring (lows + third bits). ptxas -v of the 3-bit GEMV PTX with stages 0 / 2; q3g128 M = 1, 16 with KERNELGEN_GEMV_STAGES unset / 2 / 2 uncapped / 3, baseline and 2 twice.
source "$(dirname "$0")/common.sh"
B=/usr/local/cuda-13.0/bin
for d in ptx-st0 ptx-st2; do for f in .devbundle/$d/TensorCoreGemv.GemvKernel.B3*.ptx; do n=$(basename $f .ptx); r=$(grep -o "maxnreg [0-9]*" $f | awk '{print $2}'); v=$($B/ptxas -arch=sm_90 -O3 -v $f -o /tmp/x.cubin 2>&1 | grep -oE "Used [0-9]+ registers|[0-9]+ bytes spill stores|[0-9]+ bytes smem" | tr '\n' ' '); c=$($B/cuobjdump -sass /tmp/x.cubin | grep -cE '^ +/\*[0-9a-f]{4}\*/'); echo "$d ${n#TensorCoreGemv.GemvKernel.} cap ${r:-none}: $v sass $c"; done; done | tee $OUT/ptxas.txt
r() { local name=$1 st=$2 nreg=$3; KERNELGEN_GEMV_STAGES=$st KERNELGEN_GEMV_MAXNREG=$nreg $KG bench --device cuda --m 1,16 --schemes q3g128 --reps 30 --json $OUT/$name.json > /tmp/$name.txt 2>&1; echo "=== $name"; t /tmp/$name.txt; }
r st0a "" ""; r st2a 2 ""; r st2u 2 0; r st3 3 ""; r st0b "" ""; r st2b 2 ""
