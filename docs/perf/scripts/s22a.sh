#!/bin/bash
# Session 22, call 1: x staged by thread-block clusters at M = 16 (v41). ptxas -v of the three cluster kernels; then
# q4g128, q2g64, q3g128, q8pcs on 4096² and 1024×4096: clusters off (KERNELGEN_GEMV_CLUSTER=0) at M = 1 and 16,
# clusters of 4 and of 2 at M = 16, off again at M = 16.
source "$(dirname "$0")/common.sh"
B=/usr/local/cuda-13.0/bin
for f in .devbundle/ptx/TensorCoreGemv.GemvKernel.*Cluster4.ptx .devbundle/ptx/TensorCoreGemv.GemvKernel.B4G0UpperWide.ptx; do k=$(basename $f .ptx); v=$($B/ptxas -arch=sm_90 -O3 -v $f -o /tmp/x.cubin 2>&1 | grep -oE "Used [0-9]+ registers|[0-9]+ bytes spill stores|error.*" | tr '\n' ' '); echo "$k: $v"; done | tee $OUT/ptxas.txt
r() { local name=$1 m=$2; shift 2; date +%T; env "$@" timeout 170 $KG bench --device cuda --m $m --shapes 4096x4096,1024x4096 --schemes q4g128,q2g64,q3g128,q8pcs --reps 30 --json $OUT/$name.json > $OUT/$name.txt 2>&1; echo "=== $name rc $?"; t $OUT/$name.txt; }
r off 1,16 KERNELGEN_GEMV_CLUSTER=0; r c4 16 KERNELGEN_GEMV_CLUSTER=4; r c2 16 KERNELGEN_GEMV_CLUSTER=2; r off2 16 KERNELGEN_GEMV_CLUSTER=0
date +%T
