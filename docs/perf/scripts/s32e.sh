#!/bin/bash
# Session 32, call 5 (H200): small grids, where Pays decides by measurement: 1024x4096 (a grouped-query model's k and v
# projections, 32 row blocks) and 4096x4096 (128), the five schemes at M = 1, 2, 8, 16 with f16 x, with int8 x forced
# (KERNELGEN_X8_ALWAYS=1; batches now in groups of 16 warps there, decode in 8), and int8 decode in groups of 16
# (KERNELGEN_X8_WARPS=16); twice. The build is the working tree after f0e8aae with the 16-warp rule for batches.
source "$(dirname "$0")/common.sh"
r() { local name=$1; shift; date +%T; timeout 150 $KG bench --device cuda --reps 30 --shapes 1024x4096,4096x4096 "$@" > $OUT/$name.txt 2>&1; echo "=== $name rc $?"; t $OUT/$name.txt | grep -v -E "^empty|^copy"; }
for i in 1 2; do
  r f16-$i --m 1,2,8,16
  KERNELGEN_X8_ALWAYS=1 r x8-$i --m 1,2,8,16 --int8-x
  KERNELGEN_X8_ALWAYS=1 KERNELGEN_X8_WARPS=16 r x8w16-$i --m 1 --int8-x
done
date +%T
