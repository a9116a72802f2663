#!/bin/bash
# Session 29, call 3 (H200): why did call 2's asymmetric q4g128 M = 16 (48.8 µs on 28672×8192) run slower than call 1's
# probe (44.2)? The only difference left in the PTX is the zero-point term of both units (sx·Σq of unit 0 plus unit 1's);
# KERNELGEN_X8_PROBEZERO=1 (not in the tree) takes unit 0's alone as the probe did (wrong results). Rule, probe-zero,
# rule, probe-zero; then group constants a slab ahead (KERNELGEN_X8_LATEGROUPS=0) against with x, twice; then the int8
# table once more for its errors (call 2's logs did not come back).
source "$(dirname "$0")/common.sh"
r() { local name=$1; shift; date +%T; timeout ${TO:-120} $KG bench --device cuda "$@" --reps 30 > /tmp/$name.txt 2>&1; echo "=== $name rc $?"; t /tmp/$name.txt | grep -v -E "^empty" | sed "s/^/$name /" | tee -a $OUT/runs.txt; }
S=8192x8192,28672x8192,8192x28672
r rule-a --m 1,16 --shapes $S --schemes q4g128,q4g128s --int8-x
KERNELGEN_X8_PROBEZERO=1 r probe-a --m 16 --shapes $S --schemes q4g128,q4g128s --int8-x
r rule-b --m 16 --shapes $S --schemes q4g128,q4g128s --int8-x
KERNELGEN_X8_PROBEZERO=1 r probe-b --m 16 --shapes $S --schemes q4g128,q4g128s --int8-x
KERNELGEN_X8_LATEGROUPS=0 r ahead-a --m 16 --shapes $S --schemes q4g128 --int8-x
r late-a --m 16 --shapes $S --schemes q4g128 --int8-x
KERNELGEN_X8_LATEGROUPS=0 r ahead-b --m 16 --shapes $S --schemes q4g128 --int8-x
r late-b --m 16 --shapes $S --schemes q4g128 --int8-x
date +%T; TO=200 timeout 200 $KG bench --device cuda --m 1,2,8,16 --schemes q4g128,q4g128s,q3g128,q2g64 --int8-x --reps 30 --json $OUT/x8.json > $OUT/x8.txt 2>&1; echo "=== x8 rc $?"; grep -E "rel|FAIL" $OUT/x8.txt | head -5
date +%T
