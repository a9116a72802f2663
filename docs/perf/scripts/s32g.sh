#!/bin/bash
# Session 32, call 7 (H200): whole decode steps with 8-bit codes (bench --decode 4: four Llama-3-8B-shaped q8pcs layers,
# q|k|v and gate|up stacked, host attention), f16 x against int8 x (KERNELGEN_INT8_X=1, every layer), alternating
# twice; the layer path (QuantLinear -> Pays -> ByteKernel) end to end.
source "$(dirname "$0")/common.sh"
r() { local name=$1; shift; date +%T; timeout 120 $KG bench --device cuda --decode 4 --schemes q8pcs --reps 30 > $OUT/$name.txt 2>&1; echo "=== $name rc $?"; grep -v -E "^\s*$" $OUT/$name.txt | tail -6; }
for i in 1 2; do
  KERNELGEN_INT8_X=0 r f16-$i
  KERNELGEN_INT8_X=1 r x8-$i
done
date +%T
