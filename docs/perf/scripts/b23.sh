#!/bin/bash
# Llama-3-8B projection shapes (q/o 4096x4096, k/v 1024x4096, fused qkv 6144x4096, gate/up 14336x4096, down 4096x14336) at M = 1 and 16, ours and PyTorch's peers in one call.
source "$(dirname "$0")/common.sh"
$KG bench --device cuda --m 1,16 --shapes 1024x4096,4096x4096,6144x4096,14336x4096,4096x14336 --schemes q4g128,q3g128 --reps 30 --json $OUT/llama-shapes.json > /tmp/ls.txt 2>&1; echo "=== ours"; t /tmp/ls.txt
python3 .devbundle/peers_llama.py 2>&1 | tee $OUT/llama-shapes-peers.txt
