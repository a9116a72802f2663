#!/bin/bash
# Session 27, call 1 (H200): 4-bit codes on the int8-activation GEMV (nibble masks, two units per slab). M = 1 of q4g128,
# q4g128s and q2g64 with f16 x and with x rounded to int8 (--int8-x), alternating twice; then the 4-bit int8 kernel at 8
# warps per group everywhere (KERNELGEN_X8_WARPS=8) against the rule (4 where row blocks outnumber two per SM); ptxas -v
# of every int8 kernel (registers, spills).
source "$(dirname "$0")/common.sh"
T=$(python3 -c "import triton,os;print(os.path.join(os.path.dirname(triton.__file__),'backends','nvidia','bin'))")
r() { local name=$1; shift; date +%T; timeout 120 $KG bench --device cuda --m 1 --schemes q4g128,q4g128s,q2g64 --reps 30 "$@" --json $OUT/$name.json > /tmp/$name.txt 2>&1; echo "=== $name rc $?"; t /tmp/$name.txt | tee -a $OUT/runs.txt; }
r f16-a; r x8-a --int8-x; r f16-b; r x8-b --int8-x
w() { local name=$1; shift; timeout 60 $KG bench --device cuda --m 1 --schemes q4g128 --reps 30 --int8-x > /tmp/$name.txt 2>&1; echo "=== $name rc $?"; t /tmp/$name.txt | grep -v -E "^copy|^empty" | tee -a $OUT/runs.txt; }
KERNELGEN_X8_WARPS=8 w warps8-a; w rule-a; KERNELGEN_X8_WARPS=8 w warps8-b; w rule-b
cp /tmp/f16-a.txt $OUT/f16-a.txt; cp /tmp/x8-a.txt $OUT/x8-a.txt
for f in $(grep -rl "m16n8k32" /tmp/kgcache); do sed '1,/^$/d' $f | sed 's/^\.version 8\.8/.version 8.7/' > /tmp/x8.ptx; echo "$(grep -m1 -o 'GemvKernel[^(]*' /tmp/x8.ptx | head -c 200)" >> $OUT/ptxas.txt; $T/ptxas -arch=sm_90 -v /tmp/x8.ptx -o /tmp/x8.cubin 2>&1 | grep -E 'spill|Used' | tee -a $OUT/ptxas.txt; done
date +%T
