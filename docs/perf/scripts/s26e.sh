#!/bin/bash
# Session 26, call 5 (H200): the int8-activation GEMV with each lane asking L2 for its weights P slabs past the slab it
# loads into registers (KERNELGEN_X8_PREFETCH=P; 0 = the committed kernel), q2g64 at M = 1: P = 0, 1, 2, 3, 0, 2.
source "$(dirname "$0")/common.sh"
r() { local name=$1; shift; date +%T; timeout 100 $KG bench --device cuda --m 1 --schemes q2g64 --reps 30 --int8-x "$@" --json $OUT/$name.json > /tmp/$name.txt 2>&1; echo "=== $name rc $?"; t /tmp/$name.txt | grep -v -E "^copy|^empty" | tee -a $OUT/runs.txt; }
for p in 0 1 2 3; do KERNELGEN_X8_PREFETCH=$p r p$p-a; done
for p in 0 2; do KERNELGEN_X8_PREFETCH=$p r p$p-b; done
date +%T
