#!/bin/bash
# Session 25, call 4 (H200): M > 8 with the weights in registers, two slabs per turn with two sets of quads (the
# bundle) against one slab per turn whose quads are copied across the back edge (.devbundle/b0/, the committed
# kernel): ~60 of the 4-bit M = 16 loop's ~400 SASS instructions per slab are those copies (call 3). ptxas's verdict
# on the paired PTX first (ILGPU leaves constant compares in it), then q4g128, q3g128, q8pcs at M = 16, alternating
# twice, from the cache of call 3 (the committed kernels load, the paired ones compile once).
source "$(dirname "$0")/common.sh"
export KERNELGEN_KERNEL_CACHE=/tmp/kgcache
rm -rf /tmp/kgcache && tar -C /tmp -xzf .devbundle/kgcache.tar.gz
rm -rf /tmp/kgb0 && cp -r /tmp/kg /tmp/kgb0 && cp .devbundle/b0/KernelGen.dll /tmp/kgb0/KernelGen.dll
T=$(python3 -c "import triton, os; print(os.path.join(os.path.dirname(triton.__file__), 'backends', 'nvidia', 'bin'))" 2>/dev/null)
$T/ptxas -arch=sm_90 -v -o /tmp/p.cubin .devbundle/paired-upper.ptx 2>&1 | tail -2; $T/cuobjdump -sass /tmp/p.cubin > /tmp/paired-upper.sass; wc -l /tmp/paired-upper.sass
B="--device cuda --m 16 --schemes q4g128,q3g128,q8pcs --reps 30"
r() { local name=$1 bin=$2; echo "=== $name" >> $OUT/ab.txt; timeout 120 $bin bench $B > /tmp/$name.txt 2>&1; echo "=== $name rc $?"; grep "kernel cache" /tmp/$name.txt; t /tmp/$name.txt | grep -v -E "^copy|^empty" | tee -a $OUT/ab.txt; }
for i in 1 2; do r single-$i /tmp/kgb0/KernelGen.Cli; r paired-$i $KG; done
tar -C /tmp -czf $OUT/sass.tar.gz paired-upper.sass; tar -C /tmp -czf $OUT/kgcache.tar.gz kgcache; date +%T
