#!/bin/bash
# Session 28, call 1 (H200): 3-bit codes with their third bits merged into the low bits' bytes (4 mmas per unit) against
# the split form (KERNELGEN_X8_THIRD=split, 8 mmas), q3g128 M = 1 with --int8-x, alternating twice; then asymmetric 4-bit
# batches at M = 16 with x rounded to int8 (KERNELGEN_X8_ALWAYS=1): group constants loaded with x (the rule), a slab
# ahead (KERNELGEN_X8_LATEGROUPS=0: spills), and a slab ahead under a 168-register cap with groups of 4 warps (3 groups
# per SM), against f16 x in the same call; ptxas -v of every int8 kernel compiled.
source "$(dirname "$0")/common.sh"
T=$(python3 -c "import triton,os;print(os.path.join(os.path.dirname(triton.__file__),'backends','nvidia','bin'))")
r() { local name=$1; shift; date +%T; timeout 100 $KG bench --device cuda "$@" --reps 30 > /tmp/$name.txt 2>&1; echo "=== $name rc $?"; t /tmp/$name.txt | grep -v -E "^empty" | tee -a $OUT/runs.txt; }
r q3-merged-a --m 1 --schemes q3g128 --int8-x
KERNELGEN_X8_THIRD=split r q3-split-a --m 1 --schemes q3g128 --int8-x
r q3-merged-b --m 1 --schemes q3g128 --int8-x
KERNELGEN_X8_THIRD=split r q3-split-b --m 1 --schemes q3g128 --int8-x
S=8192x8192,28672x8192,8192x28672
r m16-f16 --m 16 --shapes $S --schemes q4g128
KERNELGEN_X8_ALWAYS=1 r m16-late-a --m 16 --shapes $S --schemes q4g128 --int8-x
KERNELGEN_X8_ALWAYS=1 KERNELGEN_X8_LATEGROUPS=0 r m16-ahead-a --m 16 --shapes $S --schemes q4g128 --int8-x
KERNELGEN_X8_ALWAYS=1 KERNELGEN_X8_LATEGROUPS=0 KERNELGEN_X8_MAXNREG=168 KERNELGEN_X8_WARPS=4 r m16-ahead168 --m 16 --shapes $S --schemes q4g128 --int8-x
KERNELGEN_X8_ALWAYS=1 KERNELGEN_X8_LATEGROUPS=1 KERNELGEN_X8_MAXNREG=168 KERNELGEN_X8_WARPS=4 r m16-late168 --m 16 --shapes $S --schemes q4g128 --int8-x
KERNELGEN_X8_ALWAYS=1 r m16-late-b --m 16 --shapes $S --schemes q4g128 --int8-x
KERNELGEN_X8_ALWAYS=1 KERNELGEN_X8_LATEGROUPS=0 r m16-ahead-b --m 16 --shapes $S --schemes q4g128 --int8-x
cp /tmp/q3-merged-a.txt /tmp/m16-late-a.txt $OUT/
for f in $(grep -rl "m16n8k32" /tmp/kgcache); do sed '1,/^$/d' $f | sed 's/^\.version 8\.8/.version 8.7/' > /tmp/x8.ptx; echo "$(grep -m1 -o '[A-Za-z]*Kernel[^(]*' /tmp/x8.ptx | head -c 160) $(grep -m1 -o 'maxnreg [0-9]*' /tmp/x8.ptx)" >> $OUT/ptxas.txt; $T/ptxas -arch=sm_90 -v /tmp/x8.ptx -o /tmp/x8.cubin 2>&1 | grep -E 'spill|Used' >> $OUT/ptxas.txt; done
date +%T
