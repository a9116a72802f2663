#!/bin/bash
# Session 25, call 3 (H200): how much of M = 16 is x's conversion launch? q4g128, q3g128, q2g64 at M = 16 with x
# converted first where PreparesX says (16 MiB of codes and more), never (KERNELGEN_GEMV_PREPAREX=0: f32 x read by
# every block) and always (=1), alternating twice; the kernels' own durations under ncu; and the SASS of the 4-bit
# M = 16 and M = 1 variants through the ptxas and cuobjdump that PyTorch's Triton ships (no CUDA toolkit there).
source "$(dirname "$0")/common.sh"
export KERNELGEN_KERNEL_CACHE=/tmp/kgcache
rm -rf /tmp/kgcache && tar -C /tmp -xzf .devbundle/kgcache.tar.gz
B="--device cuda --m 16 --schemes q4g128,q3g128,q2g64 --shapes 4096x4096,8192x8192,28672x8192,8192x28672 --reps 30"
r() { local name=$1; shift; echo "=== $name" >> $OUT/prepare.txt; env "$@" timeout 120 $KG bench $B > /tmp/$name.txt 2>&1; echo "=== $name rc $?"; grep "kernel cache" /tmp/$name.txt; t /tmp/$name.txt | grep -v -E "^copy|^empty" | tee -a $OUT/prepare.txt; }
for i in 1 2; do r rule-$i UNUSED=1; r never-$i KERNELGEN_GEMV_PREPAREX=0; r always-$i KERNELGEN_GEMV_PREPAREX=1; done
date +%T
timeout 120 ncu --clock-control none --metrics gpu__time_duration.sum -k regex:"Prepare|Gemv" --launch-skip 10 --launch-count 6 $KG bench --device cuda --m 16 --schemes q4g128 --shapes 8192x8192,28672x8192 --reps 5 --warmup 2 > $OUT/ncu-durations.txt 2>&1; echo "=== ncu rc $?"
grep -E "Kernel|gpu__time_duration|\(" $OUT/ncu-durations.txt | grep -v "^==" | head -40
T=$(python3 -c "import triton, os; print(os.path.join(os.path.dirname(triton.__file__), 'backends', 'nvidia', 'bin'))" 2>/dev/null); ls $T
for v in B4G0Upper B4G0Single; do $T/ptxas -arch=sm_90 -v -o /tmp/$v.cubin .devbundle/TensorCoreGemv.GemvKernel.$v.ptx > /tmp/$v.ptxas.txt 2>&1; echo "=== ptxas $v rc $?"; cat /tmp/$v.ptxas.txt | tail -3
  $T/cuobjdump -sass /tmp/$v.cubin > /tmp/$v.sass 2>&1 || $T/nvdisasm /tmp/$v.cubin > /tmp/$v.sass 2>&1; wc -l /tmp/$v.sass; done
tar -C /tmp -czf $OUT/sass.tar.gz B4G0Upper.sass B4G0Single.sass B4G0Upper.ptxas.txt B4G0Single.ptxas.txt; tar -C /tmp -czf $OUT/kgcache.tar.gz kgcache; date +%T
