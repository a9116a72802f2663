#!/bin/bash
# Session 28, call 2 (H200): batches of 2- and 3-bit codes with x rounded to int8 (new; KERNELGEN_X8_ALWAYS=1 runs them
# wherever they are supported) against f16 x, q2g64 and q3g128 at M = 1, 2, 8, 16 on the four shapes, twice each; the
# 4-bit batch after the refactor (q4g128s, q4g128 at M = 8, 16); ptxas -v of every int8 kernel compiled.
source "$(dirname "$0")/common.sh"
T=$(python3 -c "import triton,os;print(os.path.join(os.path.dirname(triton.__file__),'backends','nvidia','bin'))")
r() { local name=$1; shift; date +%T; timeout 150 $KG bench --device cuda "$@" --reps 30 > /tmp/$name.txt 2>&1; echo "=== $name rc $?"; t /tmp/$name.txt | grep -v -E "^empty" | tee -a $OUT/runs.txt; }
r low-f16-a --m 1,2,8,16 --schemes q2g64,q3g128
KERNELGEN_X8_ALWAYS=1 r low-x8-a --m 1,2,8,16 --schemes q2g64,q3g128 --int8-x
r low-f16-b --m 2,16 --schemes q2g64,q3g128
KERNELGEN_X8_ALWAYS=1 r low-x8-b --m 2,16 --schemes q2g64,q3g128 --int8-x
r q4-x8 --m 8,16 --shapes 8192x8192,28672x8192 --schemes q4g128s,q4g128 --int8-x
cp /tmp/low-x8-a.txt /tmp/low-f16-a.txt $OUT/
for f in $(grep -rl "m16n8k32" /tmp/kgcache); do sed '1,/^$/d' $f | sed 's/^\.version 8\.8/.version 8.7/' > /tmp/x8.ptx; echo "$(grep -m1 "^kernel " $f) $(grep -m1 -o "maxnreg [0-9]*" /tmp/x8.ptx)" >> $OUT/ptxas.txt; $T/ptxas -arch=sm_90 -v /tmp/x8.ptx -o /tmp/x8.cubin 2>&1 | grep -E 'spill|Used' >> $OUT/ptxas.txt; done
date +%T
