#!/bin/bash
# Session 26, call 9 (H200): 3-bit codes on the int8-activation GEMV (a second set of mmas for the third bits' plane)
# against the f16 GEMV, q3g128 at M = 1 (f16, int8, f16, int8), with q2g64 int8 once (the 3-bit change must not move
# it); ptxas -v of the int8 kernels.
source "$(dirname "$0")/common.sh"
T=$(python3 -c "import triton,os;print(os.path.join(os.path.dirname(triton.__file__),'backends','nvidia','bin'))")
r() { local name=$1; shift; date +%T; timeout 150 $KG bench --device cuda --m 1 --reps 30 "$@" --json $OUT/$name.json > /tmp/$name.txt 2>&1; echo "=== $name rc $?"; t /tmp/$name.txt | grep -v -E "^copy|^empty" | tee -a $OUT/runs.txt; }
for i in a b; do r q3-f16-$i --schemes q3g128; r q3-x8-$i --schemes q3g128 --int8-x; done
r q2-x8 --schemes q2g64 --int8-x
for f in $(grep -rl "m16n8k32" /tmp/kgcache); do
  sed '1,/^$/d' $f | sed 's/^\.version 8\.8/.version 8.7/' > /tmp/x8.ptx; $T/ptxas -arch=sm_90 -v /tmp/x8.ptx -o /tmp/x8.cubin 2>&1 | grep -E 'registers|spill' | tee -a $OUT/ptxas.txt
done
save_cache
date +%T
