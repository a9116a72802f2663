#!/bin/bash
# Session 25, call 2 (H200; call 1 ran the same script on e2718be, whose key wrote every GEMV variant alike): the compiled-kernel cache (KernelCache) on a CUDA device. The issue's q4g128 table twice
# from one cache directory: the first run compiles every kernel and stores it, the second loads them; wall time of
# each, the cache's own summary line, both tables (the second is the check that loaded kernels compute the same and run
# as fast). Then the other four schemes (cold: the table for the final note), PyTorch's peers, and the cache is sent back for the later calls of this build.
source "$(dirname "$0")/common.sh"
export KERNELGEN_KERNEL_CACHE=/tmp/kgcache
rm -rf /tmp/kgcache
B="--device cuda --m 1,16,128,2048 --schemes q4g128 --reps 30"
for run in cold warm; do
  s=$(date +%s.%N); timeout 240 $KG bench $B --json $OUT/q4-$run.json > $OUT/q4-$run.txt 2>&1; rc=$?; e=$(date +%s.%N)
  echo "=== $run rc $rc wall $(awk "BEGIN{print $e - $s}") s"; grep "kernel cache" $OUT/q4-$run.txt; t $OUT/q4-$run.txt
done
s=$(date +%s.%N); timeout 300 $KG bench --device cuda --m 1,16,128,2048 --schemes q4g128s,q8pcs,q3g128,q2g64 --reps 30 --json $OUT/schemes.json > $OUT/schemes.txt 2>&1; rc=$?; e=$(date +%s.%N)
echo "=== schemes (cold) rc $rc wall $(awk "BEGIN{print $e - $s}") s"; grep "kernel cache" $OUT/schemes.txt; t $OUT/schemes.txt
$KG cache
date +%T; timeout 150 python3 .devbundle/torch_anchors.py > $OUT/torch-anchors.txt 2>&1; echo "=== anchors rc $?"; grep -v tinygemm $OUT/torch-anchors.txt | head -40
tar -C /tmp -czf $OUT/kgcache.tar.gz kgcache; ls -la $OUT; date +%T
