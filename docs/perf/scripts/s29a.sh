#!/bin/bash
# Session 29, call 1 (H200): probe. Do batches at M = 8 and 16 get faster if the two units of a group (g128: a 4-bit
# slab, half a 3-bit one) accumulate into one integer set and flush once? The probe (KERNELGEN_X8_PROBE=1, not in the
# tree) does that with unit 0's x scales for both units: wrong results, right instruction stream for x rounded per 128
# columns. Committed form against the probe, alternating twice, int8 batches forced (KERNELGEN_X8_ALWAYS=1); ptxas -v.
source "$(dirname "$0")/common.sh"
T=$(python3 -c "import triton,os;print(os.path.join(os.path.dirname(triton.__file__),'backends','nvidia','bin'))")
r() { local name=$1; shift; date +%T; timeout 150 $KG bench --device cuda "$@" --reps 30 > /tmp/$name.txt 2>&1; echo "=== $name rc $?"; t /tmp/$name.txt | grep -v -E "^empty" | sed "s/^/$name /" | tee -a $OUT/runs.txt; }
S=8192x8192,28672x8192,8192x28672
export KERNELGEN_X8_ALWAYS=1
r base-a --m 1,8,16 --shapes $S --schemes q4g128s,q4g128,q3g128 --int8-x
KERNELGEN_X8_PROBE=1 r probe-a --m 8,16 --shapes $S --schemes q4g128s,q4g128,q3g128 --int8-x
r base-b --m 8,16 --shapes $S --schemes q4g128s,q4g128,q3g128 --int8-x
KERNELGEN_X8_PROBE=1 r probe-b --m 8,16 --shapes $S --schemes q4g128s,q4g128,q3g128 --int8-x
for f in $(grep -rl "m16n8k32" /tmp/kgcache); do sed '1,/^$/d' $f | sed 's/^\.version 8\.8/.version 8.7/' > /tmp/x8.ptx; echo "$(grep -m1 "^kernel " $f) $(grep -m1 -o "maxnreg [0-9]*" /tmp/x8.ptx)" >> $OUT/ptxas.txt; $T/ptxas -arch=sm_90 -v /tmp/x8.ptx -o /tmp/x8.cubin 2>&1 | grep -E 'spill|Used' >> $OUT/ptxas.txt; done
cat $OUT/ptxas.txt | grep -B1 spill | grep -v "^--" | paste - - | grep Batch | sed 's/kernel //' | cut -c1-400
save_cache
date +%T
