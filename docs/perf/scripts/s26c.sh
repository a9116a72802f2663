#!/bin/bash
# Session 26, call 3 (H200): the int8-activation GEMV of call 2 (140 registers: one block of 8 warps per SM) under
# register caps of 128, 96 and 80 (2, 2 and 3 blocks per SM), q2g64 at M = 1, with ptxas -v of each.
source "$(dirname "$0")/common.sh"
T=$(python3 -c "import triton,os;print(os.path.join(os.path.dirname(triton.__file__),'backends','nvidia','bin'))")
r() { local name=$1; shift; date +%T; timeout 100 $KG bench --device cuda --m 1 --schemes q2g64 --reps 30 "$@" --json $OUT/$name.json > /tmp/$name.txt 2>&1; echo "=== $name rc $?"; t /tmp/$name.txt | grep -v -E "^copy|^empty" | tee -a $OUT/runs.txt; }
r x8-none --int8-x
for cap in 128 96 80; do
  KERNELGEN_X8_MAXNREG=$cap r x8-$cap --int8-x
done
for f in $(grep -rl "m16n8k32" /tmp/kgcache); do
  sed '1,/^$/d' $f | sed 's/^\.version 8\.8/.version 8.7/' > /tmp/x8.ptx; grep -m1 maxnreg /tmp/x8.ptx; $T/ptxas -arch=sm_90 -v /tmp/x8.ptx -o /tmp/x8.cubin 2>&1 | grep -E 'registers|spill' | tee -a $OUT/ptxas.txt
done
date +%T
