#!/bin/bash
# Session 36, call 2 (H200): each slab's weight loads stepped from one 64-bit address per lane (the bundle)
# against a00b16e (.devbundle/base/). ptxas's verdict and SASS of both builds' int8 kernels (kernelgen ptx q2g64 DIR
# int8: decode B2/B3/B4, batches B2 (g64, M > 8), B3, B4), then M = 1 and 16, int8 x, alternating twice.
# The bundle is the committed form (session 36) with s36-stepped-everywhere.patch applied, in effect.
source "$(dirname "$0")/common.sh"
T=$(python3 -c "import triton, os; print(os.path.join(os.path.dirname(triton.__file__), 'backends', 'nvidia', 'bin'))" 2>/dev/null)
mkdir -p $OUT/r
for v in base cand; do for f in .devbundle/ptx-$v/Int8ActivationGemv.{GemvKernel,BatchKernel}.*.ptx; do n=$(basename $f .ptx); n=${n#Int8ActivationGemv.}; r=$($T/ptxas -arch=sm_90 -O3 -v $f -o /tmp/x.cubin 2>&1 | grep -oE "Used [0-9]+ registers|[0-9]+ bytes spill stores" | tr '\n' ' '); $T/cuobjdump -sass /tmp/x.cubin > $OUT/r/$v-$n.sass; c=$(grep -cE '^ +/\*[0-9a-f]{4}\*/' $OUT/r/$v-$n.sass); echo "$v $n: $r sass $c"; done; done | tee $OUT/r/ptxas.txt
rm -rf /tmp/kgbase && cp -r /tmp/kg /tmp/kgbase && cp .devbundle/base/KernelGen.dll /tmp/kgbase/KernelGen.dll
S=28672x8192,8192x28672,8192x8192
g() { local name=$1 bin=$2; timeout 150 $bin bench --device cuda --m 1,16 --schemes q2g64,q3g128,q4g128,q8pcs --int8-x --shapes $S --reps 30 > $OUT/r/$name.txt 2>&1; echo "=== $name rc $?"; t $OUT/r/$name.txt | grep -v -E "^empty|^copy"; }
for i in 1 2; do g base-$i /tmp/kgbase/KernelGen.Cli; g cand-$i $KG; done
tar -C $OUT -czf $OUT/s36b.tar.gz r && rm -rf $OUT/r
