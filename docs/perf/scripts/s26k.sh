#!/bin/bash
# Session 26, call 11 (H200): the int8-activation GEMV with one scale and zero-point load per pair of units where
# groups span two units or more (the 3-bit kernel spilled 72 bytes with four), against the committed build
# (.devbundle/b0/KernelGen.dll, e42896d/8a147d3): q3g128 and q2g64 (g64: unchanged) at M = 1 with --int8-x; ptxas -v.
source "$(dirname "$0")/common.sh"
rm -rf /tmp/kgb0 && cp -r /tmp/kg /tmp/kgb0 && cp .devbundle/b0/KernelGen.dll /tmp/kgb0/KernelGen.dll
T=$(python3 -c "import triton,os;print(os.path.join(os.path.dirname(triton.__file__),'backends','nvidia','bin'))")
r() { local name=$1 bin=$2; shift 2; date +%T; timeout 60 $bin bench --device cuda --m 1 --schemes q3g128,q2g64 --reps 30 --int8-x --json $OUT/$name.json > /tmp/$name.txt 2>&1; echo "=== $name rc $?"; t /tmp/$name.txt | grep -v -E "^copy|^empty" | tee -a $OUT/runs.txt; }
r committed-a /tmp/kgb0/KernelGen.Cli; r paired-a $KG; r committed-b /tmp/kgb0/KernelGen.Cli; r paired-b $KG
for f in $(grep -rl "m16n8k32" /tmp/kgcache); do
  sed '1,/^$/d' $f | sed 's/^\.version 8\.8/.version 8.7/' > /tmp/x8.ptx; $T/ptxas -arch=sm_90 -v /tmp/x8.ptx -o /tmp/x8.cubin 2>&1 | grep -E 'registers|spill' | tee -a $OUT/ptxas.txt
done
date +%T
