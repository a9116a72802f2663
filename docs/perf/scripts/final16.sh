#!/bin/bash
# Probe: q4g128 M = 1 with 2 stages (now with x through shared memory) against the rule; then the session-16 final table (v34: 3-bit through the ring where blocks outnumber SMs) with PyTorch's peers.
source "$(dirname "$0")/common.sh"
KERNELGEN_GEMV_STAGES=2 $KG bench --device cuda --m 1 --shapes 8192x8192,28672x8192,8192x28672 --schemes q4g128 --reps 30 > /tmp/q4st2.txt 2>&1; echo "=== q4 st2 M=1"; t /tmp/q4st2.txt
$KG bench --device cuda --m 1,16 --schemes q4g128 --reps 30 --json $OUT/final-small-batch.json > /tmp/fsb.txt 2>&1; echo "=== final q4g128"; t /tmp/fsb.txt
$KG bench --device cuda --m 1,16 --schemes q4g128s,q8pcs,q3g128,q2g64 --reps 30 --json $OUT/final-schemes.json > /tmp/fs.txt 2>&1; echo "=== final schemes"; t /tmp/fs.txt
python3 .devbundle/torch_anchors.py > $OUT/final-torch-anchors.txt 2>&1; tail -22 $OUT/final-torch-anchors.txt
timeout 200 $KG bench --device cuda --m 128,2048 --schemes q4g128,q3g128 --reps 30 --json $OUT/final-gemm.json > /tmp/fg.txt 2>&1; echo "=== final gemm"; t /tmp/fg.txt
