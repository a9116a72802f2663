#!/bin/bash
# Session 37, call 1 (H200): the 3-bit (and 4-bit) batch at M = 16 with fewer live registers. cand1: each group of 8 x
# rows over both units of a unit pair before the next group's x is loaded (s37-xouter.patch); cand2: 3-bit batches past 8
# rows keep one slab in flight instead of two (s37-single.patch). ptxas's verdict and SASS size of the batch kernels of
# each build, then M = 16, int8 x, q3g128 / q4g128 / q4g128s, base, cand1, cand2 alternating twice.
source "$(dirname "$0")/common.sh"
T=$(python3 -c "import triton, os; print(os.path.join(os.path.dirname(triton.__file__), 'backends', 'nvidia', 'bin'))" 2>/dev/null)
mkdir -p $OUT/r
for v in base c1 c2; do for f in .devbundle/ptx-$v/Int8ActivationGemv.BatchKernel.*.ptx; do n=$(basename $f .ptx); n=${n#Int8ActivationGemv.}; r=$($T/ptxas -arch=sm_90 -O3 -v $f -o /tmp/x.cubin 2>&1 | grep -oE "Used [0-9]+ registers|[0-9]+ bytes spill stores|[0-9]+ bytes spill loads" | tr '\n' ' '); $T/cuobjdump -sass /tmp/x.cubin > $OUT/r/$v-$n.sass; c=$(grep -cE '^ +/\*[0-9a-f]{4}\*/' $OUT/r/$v-$n.sass); echo "$v $n: $r sass $c"; done; done | tee $OUT/r/ptxas.txt
for v in 1 2; do rm -rf /tmp/kgc$v && cp -r /tmp/kg /tmp/kgc$v && cp .devbundle/cand$v/KernelGen.dll /tmp/kgc$v/KernelGen.dll; done
S=28672x8192,8192x28672,8192x8192
g() { local name=$1 bin=$2; timeout 150 $bin bench --device cuda --m 16 --schemes q3g128,q4g128,q4g128s --int8-x --shapes $S --reps 30 > $OUT/r/$name.txt 2>&1; echo "=== $name rc $?"; t $OUT/r/$name.txt | grep -v -E "^empty|^copy"; }
for i in 1 2; do g base-$i $KG; g cand1-$i /tmp/kgc1/KernelGen.Cli; g cand2-$i /tmp/kgc2/KernelGen.Cli; done
tar -C $OUT -czf $OUT/s37a.tar.gz r && rm -rf $OUT/r
