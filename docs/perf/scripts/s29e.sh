#!/bin/bash
# Session 29, call 5 (H200): LateActivationsFor re-measured. 3-bit decode loads x at the top of its own slab on grids of
# more row blocks than SMs (the rule, chosen in session 26 against a kernel that spilled); KERNELGEN_X8_LATEX=0 loads it a
# slab ahead everywhere, =1 late everywhere. q3g128 M = 1, int8 x: rule, ahead, late, rule, ahead, late.
source "$(dirname "$0")/common.sh"
r() { local name=$1; shift; date +%T; timeout ${TO:-120} $KG bench --device cuda "$@" --reps 50 > /tmp/$name.txt 2>&1; echo "=== $name rc $?"; t /tmp/$name.txt | grep -v -E "^empty" | sed "s/^/$name /" | tee -a $OUT/runs.txt; }
for i in a b; do
  r rule-$i --m 1 --schemes q3g128 --int8-x
  KERNELGEN_X8_LATEX=0 r ahead-$i --m 1 --schemes q3g128 --int8-x
  KERNELGEN_X8_LATEX=1 r late-$i --m 1 --schemes q3g128 --int8-x
done
date +%T
