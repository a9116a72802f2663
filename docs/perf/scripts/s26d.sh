#!/bin/bash
# Session 26, call 4 (H200): the int8-activation GEMV with two slabs per turn in two register sets (the bundle, capped
# at 128 registers by default) against call 3's one-slab loop capped at 128 (.devbundle/b0/KernelGen.dll with
# KERNELGEN_X8_MAXNREG=128), alternating twice, q2g64 at M = 1; ptxas -v of both.
source "$(dirname "$0")/common.sh"
rm -rf /tmp/kgb0 && cp -r /tmp/kg /tmp/kgb0 && cp .devbundle/b0/KernelGen.dll /tmp/kgb0/KernelGen.dll
T=$(python3 -c "import triton,os;print(os.path.join(os.path.dirname(triton.__file__),'backends','nvidia','bin'))")
r() { local name=$1 bin=$2; shift 2; date +%T; timeout 100 $bin bench --device cuda --m 1 --schemes q2g64 --reps 30 --int8-x "$@" --json $OUT/$name.json > /tmp/$name.txt 2>&1; echo "=== $name rc $?"; t /tmp/$name.txt | grep -v -E "^copy|^empty" | tee -a $OUT/runs.txt; }
for i in 1 2; do KERNELGEN_X8_MAXNREG=128 r single-$i /tmp/kgb0/KernelGen.Cli; r paired-$i $KG; done
for f in $(grep -rl "m16n8k32" /tmp/kgcache); do
  sed '1,/^$/d' $f | sed 's/^\.version 8\.8/.version 8.7/' > /tmp/x8.ptx; $T/ptxas -arch=sm_90 -v /tmp/x8.ptx -o /tmp/x8.cubin 2>&1 | grep -E 'registers|spill' | tee -a $OUT/ptxas.txt
  $T/cuobjdump -sass /tmp/x8.cubin > /tmp/x8-$(basename $f).sass
done
tar -C /tmp -czf $OUT/sass.tar.gz $(cd /tmp && ls x8-*.sass)
save_cache
date +%T
