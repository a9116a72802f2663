#!/bin/bash
# Session 26, call 7 (H200): the int8-activation GEMV's weights through a 3-stage cp.async ring in shared memory (two
# slabs in flight, KERNELGEN_X8_STAGES=3) against the next slab in registers (0), q2g64 at M = 1, alternating twice;
# ptxas -v of both (zero points now converted through int, not double).
source "$(dirname "$0")/common.sh"
T=$(python3 -c "import triton,os;print(os.path.join(os.path.dirname(triton.__file__),'backends','nvidia','bin'))")
r() { local name=$1; shift; date +%T; timeout 100 $KG bench --device cuda --m 1 --schemes q2g64 --reps 30 --int8-x "$@" --json $OUT/$name.json > /tmp/$name.txt 2>&1; echo "=== $name rc $?"; t /tmp/$name.txt | grep -v -E "^copy|^empty" | tee -a $OUT/runs.txt; }
for i in a b; do KERNELGEN_X8_STAGES=0 r regs-$i; KERNELGEN_X8_STAGES=3 r ring-$i; done
for f in $(grep -rl "m16n8k32" /tmp/kgcache); do
  sed '1,/^$/d' $f | sed 's/^\.version 8\.8/.version 8.7/' > /tmp/x8.ptx; grep -c cp.async /tmp/x8.ptx; $T/ptxas -arch=sm_90 -v /tmp/x8.ptx -o /tmp/x8.cubin 2>&1 | grep -E 'registers|spill' | tee -a $OUT/ptxas.txt
  $T/cuobjdump -sass /tmp/x8.cubin > /tmp/x8-$(basename $f).sass
done
tar -C /tmp -czf $OUT/sass.tar.gz $(cd /tmp && ls x8-*.sass)
date +%T
