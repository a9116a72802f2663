#!/bin/bash
# Session 24, call 2 (H200): is x's traffic what bounds M = 16? The probe build (s24-xprobe.patch) reads every warp's
# prepared x from the buffer's first 16 KiB when KERNELGEN_GEMV_XPROBE=1 (wrong results, the same instructions: one
# `and` more per load), so that x comes from L1 instead of L2. x converted first everywhere (KERNELGEN_GEMV_PREPAREX=1).
# Off, probe, off, probe; then M = 1 and 16 of the committed rule once more for the ratio.
source "$(dirname "$0")/common.sh"
r() { local name=$1; shift; date +%T; echo "=== $name" >> $OUT/probe.txt; env "$@" timeout 120 $KG bench --device cuda --m 16 --schemes q4g128,q2g64,q3g128 --reps 30 > /tmp/$name.txt 2>&1; echo "=== $name rc $?"; t /tmp/$name.txt | tee -a $OUT/probe.txt; }
r off1 KERNELGEN_GEMV_PREPAREX=1; r probe1 KERNELGEN_GEMV_PREPAREX=1 KERNELGEN_GEMV_XPROBE=1; r off2 KERNELGEN_GEMV_PREPAREX=1; r probe2 KERNELGEN_GEMV_PREPAREX=1 KERNELGEN_GEMV_XPROBE=1
date +%T
