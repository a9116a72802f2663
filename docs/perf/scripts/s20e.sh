#!/bin/bash
# Session 20, call 5: v38 (16-warp groups) on the committed build, on smaller row counts: 1024×4096 (a grouped-query
# model's k and v projections: 32 blocks) and 4096×11008 (Llama-2-7B's down projection), q4g128 and q8pcs at M = 1
# and 16: wide (default), narrow (KERNELGEN_GEMV_WIDE=0), wide again.
source "$(dirname "$0")/common.sh"
r() { local name=$1; shift; date +%T; env "$@" timeout 100 $KG bench --device cuda --m 1,16 --shapes 1024x4096,4096x11008 --schemes q4g128,q8pcs --reps 30 --json $OUT/$name.json > $OUT/$name.txt 2>&1; echo "=== $name rc $?"; t $OUT/$name.txt; }
r wide X=1; r narrow KERNELGEN_GEMV_WIDE=0; r wide2 X=1
date +%T
