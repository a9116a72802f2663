#!/bin/bash
# Session 32, call 1 (H200): 8-bit codes on the int8-activation GEMV (ByteKernel, new), q8pcs at M = 1, 2, 8, 16 with
# f16 x (TensorCoreGemv) and with int8 x forced (KERNELGEN_X8_ALWAYS=1), alternating twice, the four shapes; ptxas -v of
# the new kernel's variants.
source "$(dirname "$0")/common.sh"
unset KERNELGEN_KERNEL_CACHE
export KERNELGEN_KERNEL_CACHE=/tmp/kgcache
T=$(python3 -c "import triton,os;print(os.path.join(os.path.dirname(triton.__file__),'backends','nvidia','bin'))")
r() { local name=$1; shift; date +%T; timeout 100 $KG bench --device cuda --m 1,2,8,16 --schemes q8pcs --reps 30 "$@" > $OUT/$name.txt 2>&1; echo "=== $name rc $?"; t $OUT/$name.txt | grep -v -E "^empty"; }
for i in 1 2; do
  r f16-$i; KERNELGEN_X8_ALWAYS=1 r x8-$i --int8-x
done
for f in $(grep -rl "m16n8k32" /tmp/kgcache); do sed '1,/^$/d' $f | sed 's/^\.version 8\.8/.version 8.7/' > /tmp/x8.ptx; echo "$(grep -m1 "^kernel " $f | cut -c1-300) $(grep -m1 -o "maxnreg [0-9]*" /tmp/x8.ptx)" >> $OUT/ptxas.txt; $T/ptxas -arch=sm_90 -v /tmp/x8.ptx -o /tmp/x8.cubin 2>&1 | grep -E 'spill|Used' >> $OUT/ptxas.txt; done
grep -B1 spill $OUT/ptxas.txt | grep -v "^--" | paste - - | grep Byte | cut -c1-600
date +%T
