#!/bin/bash
# Session 37, call 4 (H200): the committed form (the bundle: 3-bit batches and 2-bit batches past 8 rows keep one slab in
# flight; every other kernel PTX-identical to 32fb0af up to names, the 4-bit batches included, unlike call 3) against 32fb0af (.devbundle/base/). ptxas's verdict and SASS of both builds' int8 kernels; q2g64, q3g128 and
# q4g128 at M = 2, 8, 16 on the four shapes, base then new; then the issue's table with x rounded to int8 (five
# schemes, M = 1 and 16, four shapes, JSON under $OUT) and PyTorch's peers in the same call.
source "$(dirname "$0")/common.sh"
T=$(python3 -c "import triton, os; print(os.path.join(os.path.dirname(triton.__file__), 'backends', 'nvidia', 'bin'))" 2>/dev/null)
mkdir -p $OUT/r
for v in base cand; do for f in .devbundle/ptx-$v/Int8ActivationGemv.{GemvKernel,BatchKernel,ByteKernel}.*.ptx; do n=$(basename $f .ptx); n=${n#Int8ActivationGemv.}; r=$($T/ptxas -arch=sm_90 -O3 -v $f -o /tmp/x.cubin 2>&1 | grep -oE "Used [0-9]+ registers|[0-9]+ bytes spill stores" | tr '\n' ' '); $T/cuobjdump -sass /tmp/x.cubin | grep -E '^ +/\*[0-9a-f]{4}\*/' | sed -E 's/^ +\/\*[0-9a-f]{4}\*\/ +//; s/ *\/\*.*//' > $OUT/r/$v-$n.sass; c=$(wc -l < $OUT/r/$v-$n.sass); echo "$v $n: $r sass $c"; done; done | tee $OUT/r/ptxas.txt
for f in $OUT/r/base-*.sass; do n=${f#$OUT/r/base-}; if cmp -s $f $OUT/r/cand-$n; then echo "$n: SASS identical"; else echo "$n: SASS differs ($(diff $f $OUT/r/cand-$n | grep -c '^[<>]') lines)"; fi; done | tee -a $OUT/r/ptxas.txt
rm -rf /tmp/kgbase && cp -r /tmp/kg /tmp/kgbase && cp .devbundle/base/KernelGen.dll /tmp/kgbase/KernelGen.dll
S=4096x4096,8192x8192,28672x8192,8192x28672
g() { local name=$1 bin=$2; timeout 200 $bin bench --device cuda --m 2,8,16 --schemes q2g64,q3g128,q4g128 --int8-x --shapes $S --reps 30 > $OUT/r/$name.txt 2>&1; echo "=== $name rc $?"; t $OUT/r/$name.txt | grep -v -E "^empty|^copy"; }
for i in 1; do g base-$i /tmp/kgbase/KernelGen.Cli; g new-$i $KG; done
tar -C $OUT -czf $OUT/s37d.tar.gz r && rm -rf $OUT/r
date +%T
timeout 240 $KG bench --device cuda --m 1,16 --schemes q4g128,q4g128s,q8pcs,q3g128,q2g64 --int8-x --shapes $S --reps 30 --json $OUT/s37d-int8x.json > $OUT/s37d-int8x.txt 2>&1
echo "=== bench rc $?"; t $OUT/s37d-int8x.txt
date +%T
timeout 200 python3 .devbundle/torch_anchors.py > $OUT/s37d-torch.txt 2>&1
echo "=== torch rc $?"; tail -25 $OUT/s37d-torch.txt
date +%T
