#!/bin/bash
# Session 37, call 2 (H200): one slab in flight. cand3: every batch kernel (2-, 3-, 4-bit, M = 2-16) keeps one slab in
# flight (s37-single-all.patch); cand2 (call 1's winner, 3-bit past 8 rows only) under .maxnreg 96 and 80 instead of 128.
# ptxas's verdict for cand3's batch kernels (M > 8); base vs cand3 at M = 2, 8, 16 alternating twice; cand2 at M = 16.
source "$(dirname "$0")/common.sh"
T=$(python3 -c "import triton, os; print(os.path.join(os.path.dirname(triton.__file__), 'backends', 'nvidia', 'bin'))" 2>/dev/null)
mkdir -p $OUT/r
for v in c3; do for f in .devbundle/ptx-$v/Int8ActivationGemv.BatchKernel.*.ptx; do n=$(basename $f .ptx); n=${n#Int8ActivationGemv.}; r=$($T/ptxas -arch=sm_90 -O3 -v $f -o /tmp/x.cubin 2>&1 | grep -oE "Used [0-9]+ registers|[0-9]+ bytes spill stores|[0-9]+ bytes spill loads" | tr '\n' ' '); $T/cuobjdump -sass /tmp/x.cubin > $OUT/r/$v-$n.sass; c=$(grep -cE '^ +/\*[0-9a-f]{4}\*/' $OUT/r/$v-$n.sass); echo "$v $n: $r sass $c"; done; done | tee $OUT/r/ptxas.txt
for v in 2 3; do rm -rf /tmp/kgc$v && cp -r /tmp/kg /tmp/kgc$v && cp .devbundle/cand$v/KernelGen.dll /tmp/kgc$v/KernelGen.dll; done
S=28672x8192,8192x28672,8192x8192
g() { local name=$1 bin=$2 m=$3 sch=$4; timeout 200 $bin bench --device cuda --m $m --schemes $sch --int8-x --shapes $S --reps 30 > $OUT/r/$name.txt 2>&1; echo "=== $name rc $?"; t $OUT/r/$name.txt | grep -v -E "^empty|^copy"; }
for i in 1 2; do g base-$i $KG 2,8,16 q2g64,q3g128,q4g128; g cand3-$i /tmp/kgc3/KernelGen.Cli 2,8,16 q2g64,q3g128,q4g128; done
for r in 96 80; do KERNELGEN_X8_MAXNREG=$r g cand2-r$r /tmp/kgc2/KernelGen.Cli 16 q3g128; done
g cand2-r128 /tmp/kgc2/KernelGen.Cli 16 q3g128
tar -C $OUT -czf $OUT/s37b.tar.gz r && rm -rf $OUT/r
