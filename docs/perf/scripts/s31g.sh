#!/bin/bash
# Session 31, call 7 (H200): unbranched loads of both register sets in the int8 decode too (M = 1), and in the batch
# except for 2-bit codes past 8 rows, against 7c6b4a1 (.devbundle/base/KernelGen.dll), alternating twice: decode of the
# four int8 schemes on the four shapes, 2-bit batches at M = 8 and 16, 3-bit at M = 16 with KERNELGEN_X8_ALWAYS=1.
source "$(dirname "$0")/common.sh"
unset KERNELGEN_KERNEL_CACHE
rm -rf /tmp/kgbase && cp -r /tmp/kg /tmp/kgbase && cp .devbundle/base/KernelGen.dll /tmp/kgbase/KernelGen.dll
r() { local name=$1 bin=$2; shift 2; date +%T; timeout 120 $bin bench --device cuda --int8-x --reps 30 "$@" > $OUT/$name.txt 2>&1; echo "=== $name rc $?"; t $OUT/$name.txt | grep -v -E "^empty|^copy"; }
for i in 1 2; do
  r base1-$i /tmp/kgbase/KernelGen.Cli --m 1 --schemes q4g128,q4g128s,q3g128,q2g64; r new1-$i $KG --m 1 --schemes q4g128,q4g128s,q3g128,q2g64
done
S=8192x8192,28672x8192,8192x28672
r base2 /tmp/kgbase/KernelGen.Cli --m 8,16 --schemes q2g64 --shapes $S; r new2 $KG --m 8,16 --schemes q2g64 --shapes $S
export KERNELGEN_X8_ALWAYS=1
r base3 /tmp/kgbase/KernelGen.Cli --m 16 --schemes q3g128 --shapes $S; r new3 $KG --m 16 --schemes q3g128 --shapes $S
date +%T
