#!/bin/bash
# Session 26, call 12 (H200): 3-bit codes on the int8-activation GEMV with x's words and unit scales loaded at the top of
# their own slab (KERNELGEN_X8_LATEX=1: 12 registers fewer per set) against one slab ahead (0), q3g128 M = 1, twice each.
source "$(dirname "$0")/common.sh"
T=$(python3 -c "import triton,os;print(os.path.join(os.path.dirname(triton.__file__),'backends','nvidia','bin'))")
r() { local name=$1; shift; timeout 40 $KG bench --device cuda --m 1 --schemes q3g128 --reps 30 --int8-x --json $OUT/$name.json > /tmp/$name.txt 2>&1; echo "=== $name rc $?"; t /tmp/$name.txt | grep -v -E "^copy|^empty" | tee -a $OUT/runs.txt; }
for i in a b; do KERNELGEN_X8_LATEX=0 r ahead-$i; KERNELGEN_X8_LATEX=1 r late-$i; done
for f in $(grep -rl "m16n8k32" /tmp/kgcache); do sed '1,/^$/d' $f | sed 's/^\.version 8\.8/.version 8.7/' > /tmp/x8.ptx; $T/ptxas -arch=sm_90 -v /tmp/x8.ptx -o /tmp/x8.cubin 2>&1 | grep -E 'spill' | tee -a $OUT/ptxas.txt; done
