#!/bin/bash
# Session 31, call 10 (H200): the f16 GEMV's M <= 8 two-set loop loaded without branches (as v47 did for the int8
# batch) against 646f575 (.devbundle/base/KernelGen.dll): f16 x, M = 1 and 8, q4g128, q3g128, q2g64, base, new, base, new
# with the compiled kernels cached per build after the first run of each.
source "$(dirname "$0")/common.sh"
rm -rf /tmp/kgbase && cp -r /tmp/kg /tmp/kgbase && cp .devbundle/base/KernelGen.dll /tmp/kgbase/KernelGen.dll
S=8192x8192,28672x8192,8192x28672
r() { local name=$1 bin=$2 cache=$3; date +%T; KERNELGEN_KERNEL_CACHE=$cache timeout 110 $bin bench --device cuda --reps 30 --m 1,8 --schemes q4g128,q3g128,q2g64 --shapes $S > $OUT/$name.txt 2>&1; echo "=== $name rc $?"; t $OUT/$name.txt | grep -v -E "^empty|^copy"; }
mkdir -p /tmp/cb /tmp/cn
r base-1 /tmp/kgbase/KernelGen.Cli /tmp/cb; r new-1 $KG /tmp/cn; r base-2 /tmp/kgbase/KernelGen.Cli /tmp/cb; r new-2 $KG /tmp/cn
date +%T
