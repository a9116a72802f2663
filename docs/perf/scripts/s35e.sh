#!/bin/bash
# Session 35, call 5 (H200): v48's decode under register caps. ncu (call 4): 126 registers, 16 warps per SM (4 groups
# of 4 warps on the large shapes), 1.1 of 3.4 warps eligible per scheduler, issue slots 48 % busy, stalls on fixed
# latency and loads: more warps may hide them. ptxas's verdict on the PTX capped at 96, 80, 64 (`kernelgen ptx` with
# KERNELGEN_X8_MAXNREG; .devbundle/ptx-r*), then M = 1, int8 x, with KERNELGEN_X8_MAXNREG unset / 96 / 80 / 64,
# alternating twice, each process compiling its kernels. Needs call 3's bundle (the committed code).
source "$(dirname "$0")/common.sh"
unset KERNELGEN_KERNEL_CACHE
T=$(python3 -c "import triton, os; print(os.path.join(os.path.dirname(triton.__file__), 'backends', 'nvidia', 'bin'))" 2>/dev/null)
mkdir -p $OUT/r
for v in cand r96 r80 r64; do for f in .devbundle/ptx-$v/*.ptx; do [ -f $f ] || continue; n=$(basename $f .ptx); r=$($T/ptxas -arch=sm_90 -O3 -v $f -o /tmp/x.cubin 2>&1 | grep -oE "Used [0-9]+ registers|[0-9]+ bytes spill stores|[0-9]+ bytes spill loads" | tr '\n' ' '); echo "$v $n: $r"; done; done | tee $OUT/r/ptxas.txt
S=28672x8192,8192x28672,8192x8192
g() { local name=$1 cap=$2; KERNELGEN_X8_MAXNREG=$cap timeout 90 $KG bench --device cuda --m 1 --schemes q2g64,q3g128,q4g128 --int8-x --shapes $S --reps 30 > $OUT/r/$name.txt 2>&1; echo "=== $name rc $?"; t $OUT/r/$name.txt | grep -v -E "^empty|^copy"; }
for i in 1 2; do g cap128-$i 128; g cap96-$i 96; g cap80-$i 80; g cap64-$i 64; done
tar -C $OUT -czf $OUT/s35e.tar.gz r && rm -rf $OUT/r
