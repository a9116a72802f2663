#!/bin/bash
# OpenCL re-check on the GPU machine's PoCL after sessions 6-16: every scheme incl. 3-bit, small shapes, M = 1, 3, 17, checked against the CPU reference.
source "$(dirname "$0")/common.sh"
timeout 170 $KG bench --device opencl --m 1,3,17 --shapes 1024x1024,100x512 --schemes q4g128,q4g128s,q8pcs,q3g128,q2g64 --reps 5 --json $OUT/pocl-opencl.json 2>&1 | tail -40
