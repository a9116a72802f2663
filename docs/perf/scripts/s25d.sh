#!/bin/bash
# Session 25, call 5 (H200): programmatic dependent launch of the M > 8 GEMV behind x's conversion (the bundle;
# KERNELGEN_PDL) against the committed launch (.devbundle/b0/, call 2's build), both with M = 1 compiled first in their
# process as the bench does; and the committed build with no cache and M = 16 alone, whose kernels ILGPU then compiles
# into another form (this machine's finding: a fresh context gives the M = 16 variant 4535 lines of PTX with
# unfolded constant compares, against 1815 when an M <= 8 variant was compiled before it).
source "$(dirname "$0")/common.sh"
export KERNELGEN_KERNEL_CACHE=/tmp/kgcache
rm -rf /tmp/kgcache && tar -C /tmp -xzf .devbundle/kgcache.tar.gz
rm -rf /tmp/kgb0 && cp -r /tmp/kg /tmp/kgb0 && cp .devbundle/b0/KernelGen.dll /tmp/kgb0/KernelGen.dll
S="--schemes q4g128,q3g128,q2g64 --reps 30"
r() { local name=$1 bin=$2; shift 2; echo "=== $name" >> $OUT/ab.txt; timeout 150 $bin bench --device cuda "$@" > /tmp/$name.txt 2>&1; echo "=== $name rc $?"; grep -E "kernel cache|FAILED|rror" /tmp/$name.txt | head -5; t /tmp/$name.txt | grep -v -E "^copy|^empty" | tee -a $OUT/ab.txt; }
r base-1 /tmp/kgb0/KernelGen.Cli --m 1,16 $S
r pdl-1 $KG --m 1,16 $S
KERNELGEN_KERNEL_CACHE=off r fresh16-base /tmp/kgb0/KernelGen.Cli --m 16 $S
r base-2 /tmp/kgb0/KernelGen.Cli --m 1,16 $S
r pdl-2 $KG --m 1,16 $S
cp /tmp/pdl-1.txt $OUT/pdl-1.txt; cp /tmp/fresh16-base.txt $OUT/fresh16-base.txt; tar -C /tmp -czf $OUT/kgcache.tar.gz kgcache; date +%T
