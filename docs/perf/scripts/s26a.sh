#!/bin/bash
# Session 26, call 1 (H200): the int8-activation decode GEMV (Int8ActivationGemv, --int8-x) against the f16 one for
# q2g64 at M = 1 on the issue's four shapes, alternating (f16, int8, f16, int8), then ptxas -v of both kernels.
source "$(dirname "$0")/common.sh"
for run in a b; do
  date +%T; timeout 150 $KG bench --device cuda --m 1 --schemes q2g64 --reps 30 --json $OUT/f16-$run.json > $OUT/f16-$run.txt 2>&1; echo "=== f16 $run rc $?"; t $OUT/f16-$run.txt
  date +%T; timeout 150 $KG bench --device cuda --m 1 --schemes q2g64 --reps 30 --int8-x --json $OUT/x8-$run.json > $OUT/x8-$run.txt 2>&1; echo "=== int8 $run rc $?"; t $OUT/x8-$run.txt
done
T=$(python3 -c "import triton,os;print(os.path.join(os.path.dirname(triton.__file__),'backends','nvidia','bin'))")
for f in $(grep -rl "m16n8k32" /tmp/kgcache); do
  sed '1,/^$/d' $f > /tmp/x8.ptx; $T/ptxas -arch=sm_90 -v /tmp/x8.ptx -o /tmp/x8.cubin 2>&1 | tail -3
  $T/cuobjdump -sass /tmp/x8.cubin > $OUT/x8-sass.txt 2>&1; grep -c "IMMA" $OUT/x8-sass.txt
done
save_cache
date +%T
