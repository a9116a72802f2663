#!/bin/bash
# Session 28, call 4 (H200): decode with one scale and zero-point load per unit pair where a group spans two units
# (KERNELGEN_X8_PAIRED=1; q3g128, q4g128, q4g128s: g128; q2g64 unchanged as a control) against one per unit, --int8-x
# M = 1, alternating twice; ptxas -v of every int8 decode kernel.
source "$(dirname "$0")/common.sh"
T=$(python3 -c "import triton,os;print(os.path.join(os.path.dirname(triton.__file__),'backends','nvidia','bin'))")
r() { local name=$1; shift; date +%T; timeout 120 $KG bench --device cuda "$@" --reps 30 > /tmp/$name.txt 2>&1; echo "=== $name rc $?"; t /tmp/$name.txt | grep -v -E "^empty" | tee -a $OUT/runs.txt; }
r unit-a --m 1 --schemes q3g128,q4g128,q4g128s,q2g64 --int8-x
KERNELGEN_X8_PAIRED=1 r paired-a --m 1 --schemes q3g128,q4g128,q4g128s,q2g64 --int8-x
r unit-b --m 1 --schemes q3g128,q4g128,q4g128s --int8-x
KERNELGEN_X8_PAIRED=1 r paired-b --m 1 --schemes q3g128,q4g128,q4g128s --int8-x
for f in $(grep -rl "m16n8k32" /tmp/kgcache); do sed '1,/^$/d' $f | sed 's/^\.version 8\.8/.version 8.7/' > /tmp/x8.ptx; echo "$(grep -m1 "^kernel " $f) $(grep -m1 -o "maxnreg [0-9]*" /tmp/x8.ptx)" >> $OUT/ptxas.txt; $T/ptxas -arch=sm_90 -v /tmp/x8.ptx -o /tmp/x8.cubin 2>&1 | grep -E 'spill|Used' >> $OUT/ptxas.txt; done
date +%T
