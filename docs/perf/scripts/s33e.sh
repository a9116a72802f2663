#!/bin/bash
# Session 33, call 5 (H200): what a launched projection costs the host. bench --decode 4 on a tiny decoder (dim 128,
# hidden 384, 4 heads of 32, 2 kv heads: kernels and attention negligible), 100 timed steps: a step is then its round
# trips (copy x in, launch(es), copy y out) and norms. Separate (7 projections per layer) against stacked (4) gives the
# cost per projection; f16 x (one launch per projection) against int8 x on every layer (two: x's rounding, the GEMV);
# tiered compilation on and off.
source "$(dirname "$0")/common.sh"
export KERNELGEN_KERNEL_CACHE=/tmp/kgH
mkdir -p $OUT/r
d() { local name=$1; shift; date +%T; timeout 100 env "$@" $KG bench --device cuda --decode 4 --decode-shape 128,384,4,2 --schemes q4g128 --reps 100 --json $OUT/r/$name.json > $OUT/r/$name.txt 2>&1; echo "=== $name rc $?"; grep -E "^q[0-9]|cache" $OUT/r/$name.txt; }
d f16 KERNELGEN_INT8_X=0
d x8 KERNELGEN_INT8_X=1 KERNELGEN_X8_ALWAYS=1
d f16-tc0 KERNELGEN_INT8_X=0 DOTNET_TieredCompilation=0
d x8-tc0 KERNELGEN_INT8_X=1 KERNELGEN_X8_ALWAYS=1 DOTNET_TieredCompilation=0
date +%T
tar -C $OUT -czf $OUT/s33e.tar.gz r && rm -rf $OUT/r
