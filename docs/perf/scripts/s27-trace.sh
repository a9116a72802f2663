#!/bin/bash
# Session 27, calls 3-4 (H200): tiny shapes of the batch kernel with the bench trace (KERNELGEN_BENCH_TRACE=1) and
# KERNELGEN_PDL=0/1: the sums were converted to float as unsigned (ILGPU: cvt.rn.f32.u32).
source "$(dirname "$0")/common.sh"
KERNELGEN_BENCH_TRACE=1 timeout 60 $KG bench --device cuda --m 2,9 --schemes q4g128s --shapes 32x256 --reps 5 --int8-x 2>&1 | grep -E "trace|rel.err"
KERNELGEN_BENCH_TRACE=1 timeout 60 $KG bench --device cuda --m 2 --schemes q4g128 --shapes 32x128 --reps 5 --int8-x 2>&1 | grep -E "trace|rel.err"
