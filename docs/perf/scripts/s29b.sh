#!/bin/bash
# Session 29, call 2 (H200): x rounded per 128 columns (two units), a batch's unit pair flushed once where a weight group
# spans both units; asymmetric 4-bit batches past 8 rows now on int8. Int8 table (M = 1, 2, 8, 16; errors against
# float64 over x rounded the same way and over x), q4g128 M = 16 with its group constants a slab ahead
# (KERNELGEN_X8_LATEGROUPS=0) against the rule (with x), PyTorch's peers, f16 x at M = 1 and 16 (last: it compiles cold); ptxas -v.
source "$(dirname "$0")/common.sh"
T=$(python3 -c "import triton,os;print(os.path.join(os.path.dirname(triton.__file__),'backends','nvidia','bin'))")
r() { local name=$1; shift; date +%T; timeout ${TO:-200} $KG bench --device cuda "$@" --reps 30 --json $OUT/$name.json > $OUT/$name.txt 2>&1; echo "=== $name rc $?"; t $OUT/$name.txt | grep -v -E "^empty" | sed "s/^/$name /"; }
S=8192x8192,28672x8192,8192x28672
TO=260 r x8 --m 1,2,8,16 --schemes q4g128,q4g128s,q3g128,q2g64 --int8-x
KERNELGEN_X8_LATEGROUPS=0 r x8-ahead --m 16 --shapes $S --schemes q4g128 --int8-x
r x8-late --m 16 --shapes $S --schemes q4g128 --int8-x
date +%T; timeout 150 python3 .devbundle/torch_anchors.py > $OUT/torch-anchors.txt 2>&1; echo "=== anchors rc $?"; grep -E "copy|M=1:|M=16:" $OUT/torch-anchors.txt | head -20
TO=150 r f16 --m 1,16 --schemes q4g128,q4g128s,q3g128,q2g64
for f in $(grep -rl "m16n8k32" /tmp/kgcache); do sed '1,/^$/d' $f | sed 's/^\.version 8\.8/.version 8.7/' > /tmp/x8.ptx; echo "$(grep -m1 "^kernel " $f) $(grep -m1 -o "maxnreg [0-9]*" /tmp/x8.ptx)" >> $OUT/ptxas.txt; $T/ptxas -arch=sm_90 -v /tmp/x8.ptx -o /tmp/x8.cubin 2>&1 | grep -E 'spill|Used' >> $OUT/ptxas.txt; done
grep -B1 spill $OUT/ptxas.txt | grep -v "^--" | paste - - | sed 's/kernel //' | cut -c1-200
save_cache
date +%T
