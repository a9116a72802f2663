#!/bin/bash
# Session 27, calls 2 and 5 (H200; call 2 on a build whose batch sums ILGPU converted as unsigned, call 5 on the fix): batches of 4-bit codes with x rounded to int8 (Int8ActivationGemv's batch kernel, M = 2…16)
# against the f16 tensor-core GEMV: q4g128 and q4g128s at M = 1, 8, 16, f16 then int8, twice; ptxas -v of the int8
# kernels; whole decode steps of 4 Llama-3-8B-shaped q4g128 layers with f16 and int8 activations.
source "$(dirname "$0")/common.sh"
T=$(python3 -c "import triton,os;print(os.path.join(os.path.dirname(triton.__file__),'backends','nvidia','bin'))")
r() { local name=$1; shift; date +%T; timeout 150 $KG bench --device cuda --m 1,8,16 --schemes q4g128,q4g128s --reps 30 "$@" --json $OUT/$name.json > /tmp/$name.txt 2>&1; echo "=== $name rc $?"; t /tmp/$name.txt | tee -a $OUT/runs.txt; }
r f16-a; r x8-a --int8-x; r f16-b; r x8-b --int8-x
cp /tmp/x8-a.txt $OUT/x8-a.txt
for f in $(grep -rl "m16n8k32" /tmp/kgcache); do sed '1,/^$/d' $f | sed 's/^\.version 8\.8/.version 8.7/' > /tmp/x8.ptx; grep -m1 -o 'entry [A-Za-z_0-9]*' /tmp/x8.ptx | head -c 120 >> $OUT/ptxas.txt; echo >> $OUT/ptxas.txt; $T/ptxas -arch=sm_90 -v /tmp/x8.ptx -o /tmp/x8.cubin 2>&1 | grep -E 'spill|Used' | tee -a $OUT/ptxas.txt; done
date +%T; timeout 100 $KG bench --decode 4 --device cuda --schemes q4g128 --reps 50 --warmup 10 > /tmp/dec-f16.txt 2>&1; echo "=== decode f16 rc $?"; tail -3 /tmp/dec-f16.txt
date +%T; KERNELGEN_INT8_X=1 timeout 100 $KG bench --decode 4 --device cuda --schemes q4g128 --reps 50 --warmup 10 > /tmp/dec-x8.txt 2>&1; echo "=== decode int8 rc $?"; tail -3 /tmp/dec-x8.txt
cat /tmp/dec-f16.txt /tmp/dec-x8.txt > $OUT/decode.txt
date +%T
