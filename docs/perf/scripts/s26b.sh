#!/bin/bash
# Session 26, call 2 (H200): the int8-activation GEMV with every load of the next slab issued with its weights (x
# words, scales, zero points), against the f16 GEMV, q2g64 at M = 1 (int8, f16, int8), then ptxas -v and the SASS
# of the int8 kernels (Triton's ptxas takes PTX 8.7: the .version line is lowered for it).
source "$(dirname "$0")/common.sh"
r() { local name=$1; shift; date +%T; timeout 150 $KG bench --device cuda --m 1 --schemes q2g64 --reps 30 "$@" --json $OUT/$name.json > /tmp/$name.txt 2>&1; echo "=== $name rc $?"; grep "kernel cache" /tmp/$name.txt; t /tmp/$name.txt | grep -v -E "^copy|^empty" | tee -a $OUT/runs.txt; }
r x8-a --int8-x; r f16-a; r x8-b --int8-x
T=$(python3 -c "import triton,os;print(os.path.join(os.path.dirname(triton.__file__),'backends','nvidia','bin'))")
for f in $(grep -rl "m16n8k32" /tmp/kgcache); do
  sed '1,/^$/d' $f | sed 's/^\.version 8\.8/.version 8.7/' > /tmp/x8.ptx; $T/ptxas -arch=sm_90 -v /tmp/x8.ptx -o /tmp/x8.cubin 2>&1 | tail -2 | tee -a $OUT/ptxas.txt
  $T/cuobjdump -sass /tmp/x8.cubin > /tmp/x8-$(basename $f).sass; grep -c IMMA /tmp/x8-$(basename $f).sass
done
tar -C /tmp -czf $OUT/sass.tar.gz $(cd /tmp && ls x8-*.sass)
save_cache
date +%T
