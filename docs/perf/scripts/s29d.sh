#!/bin/bash
# Session 29, call 4 (H200): the final build. A unit pair that shares its weight group reads one quad of x metadata
# (sx, and sx·Σ q of both units, written by x's rounding) instead of two and adds nothing (call 3: the two adds and
# second quad cost 3-7 %). Asymmetric q4g128 at M = 16 with its group constants a slab ahead (KERNELGEN_X8_LATEGROUPS=0)
# against with x (the rule), twice; the int8 table with errors; PyTorch's peers.
source "$(dirname "$0")/common.sh"
r() { local name=$1; shift; date +%T; timeout ${TO:-120} $KG bench --device cuda "$@" --reps 30 > /tmp/$name.txt 2>&1; echo "=== $name rc $?"; t /tmp/$name.txt | grep -v -E "^empty" | sed "s/^/$name /" | tee -a $OUT/runs.txt; }
S=8192x8192,28672x8192,8192x28672
date +%T; timeout 250 $KG bench --device cuda --m 1,2,8,16 --schemes q4g128,q4g128s,q3g128,q2g64 --int8-x --reps 30 --json $OUT/x8.json > $OUT/x8.txt 2>&1; echo "=== x8 rc $?"; t $OUT/x8.txt | grep -v -E "^empty"
KERNELGEN_X8_LATEGROUPS=0 r ahead-a --m 16 --shapes $S --schemes q4g128 --int8-x
r late-a --m 16 --shapes $S --schemes q4g128 --int8-x
KERNELGEN_X8_LATEGROUPS=0 r ahead-b --m 16 --shapes $S --schemes q4g128 --int8-x
r late-b --m 16 --shapes $S --schemes q4g128 --int8-x
date +%T; timeout 150 python3 .devbundle/torch_anchors.py > $OUT/torch-anchors.txt 2>&1; echo "=== anchors rc $?"; grep -E "copy|M=1:|M=16:" $OUT/torch-anchors.txt | head -20
date +%T
