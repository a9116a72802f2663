#!/bin/bash
# Session 28, call 6 (H200): 3-bit batches at M = 16 with their third-bit words loaded at the top of their own slab
# (new default at M > 8) against a slab ahead (KERNELGEN_X8_LATETHIRDS=0, 164 bytes spilled), KERNELGEN_X8_ALWAYS=1 so the
# int8 form runs, alternating twice, against f16 x; ptxas -v of the batch kernels.
source "$(dirname "$0")/common.sh"
T=$(python3 -c "import triton,os;print(os.path.join(os.path.dirname(triton.__file__),'backends','nvidia','bin'))")
r() { local name=$1; shift; date +%T; timeout 120 $KG bench --device cuda "$@" --reps 30 > /tmp/$name.txt 2>&1; echo "=== $name rc $?"; t /tmp/$name.txt | grep -v -E "^empty" | tee -a $OUT/runs.txt; }
S=8192x8192,28672x8192,8192x28672
r f16 --m 16 --shapes $S --schemes q3g128
KERNELGEN_X8_ALWAYS=1 r late-a --m 16 --shapes $S --schemes q3g128 --int8-x
KERNELGEN_X8_ALWAYS=1 KERNELGEN_X8_LATETHIRDS=0 r ahead-a --m 16 --shapes $S --schemes q3g128 --int8-x
KERNELGEN_X8_ALWAYS=1 r late-b --m 16 --shapes $S --schemes q3g128 --int8-x
KERNELGEN_X8_ALWAYS=1 KERNELGEN_X8_LATETHIRDS=0 r ahead-b --m 16 --shapes $S --schemes q3g128 --int8-x
for f in $(grep -rl "m16n8k32" /tmp/kgcache); do sed '1,/^$/d' $f | sed 's/^\.version 8\.8/.version 8.7/' > /tmp/x8.ptx; echo "$(grep -m1 "^kernel " $f) $(grep -m1 -o "maxnreg [0-9]*" /tmp/x8.ptx)" >> $OUT/ptxas.txt; $T/ptxas -arch=sm_90 -v /tmp/x8.ptx -o /tmp/x8.cubin 2>&1 | grep -E 'spill|Used' >> $OUT/ptxas.txt; done
date +%T
