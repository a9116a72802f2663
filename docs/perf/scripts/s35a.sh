#!/bin/bash
# Session 35, call 1 (H200): decode's flush split between lanes t and t ^ 1 (each lane scales one row; the bundle) and
# s34's integer zero term (.devbundle/iz/, s34-decode-intzero.patch on 32ee64f) against 32ee64f (.devbundle/base/).
# ptxas's verdict and SASS counts of the three decode kernels (2-, 3-, 4-bit; `kernelgen ptx` output in .devbundle/ptx-*),
# then M = 1, int8 x, alternating twice, each process compiling its kernels.
# The bundle was 7032f24 with s35-branch-every-width.patch, and the zero term written as − zero·(Σq·ZeroWeight) (one
# negation more per unit); base is 32ee64f; iz is 32ee64f with s34-decode-intzero.patch.
source "$(dirname "$0")/common.sh"
unset KERNELGEN_KERNEL_CACHE
T=$(python3 -c "import triton, os; print(os.path.join(os.path.dirname(triton.__file__), 'backends', 'nvidia', 'bin'))" 2>/dev/null)
mkdir -p $OUT/r
for v in old iz new; do for f in .devbundle/ptx-$v/*.ptx; do n=$(basename $f .ptx); r=$($T/ptxas -arch=sm_90 -O3 -v $f -o /tmp/x.cubin 2>&1 | grep -oE "Used [0-9]+ registers|[0-9]+ bytes spill stores" | tr '\n' ' '); $T/cuobjdump -sass /tmp/x.cubin > $OUT/r/$v-$n.sass; c=$(grep -cE '^ +/\*[0-9a-f]{4}\*/' $OUT/r/$v-$n.sass); echo "$v $n: $r sass $c"; done; done | tee $OUT/r/ptxas.txt
for v in base iz; do rm -rf /tmp/kg$v && cp -r /tmp/kg /tmp/kg$v && cp .devbundle/$v/KernelGen.dll /tmp/kg$v/KernelGen.dll; done
S=28672x8192,8192x28672,8192x8192
g() { local name=$1 bin=$2; timeout 80 $bin bench --device cuda --m 1 --schemes q2g64,q3g128,q4g128 --int8-x --shapes $S --reps 30 > $OUT/r/$name.txt 2>&1; echo "=== $name rc $?"; t $OUT/r/$name.txt | grep -v -E "^empty|^copy"; }
for i in 1 2; do g base-$i /tmp/kgbase/KernelGen.Cli; g iz-$i /tmp/kgiz/KernelGen.Cli; g new-$i $KG; done
tar -C $OUT -czf $OUT/s35a.tar.gz r && rm -rf $OUT/r
