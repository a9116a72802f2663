#!/bin/bash
# Prepared in session 17 (no device time then), for the next device session: whole decode steps of 4 Llama-3-8B-shaped
# layers on the GPU, q|k|v and gate|up stacked (the runtime's default since 05e8c16) against seven launches per layer;
# wall clock per token. Session 16's per-shape figures predict about -14 µs of projections per layer at q4g128.
source "$(dirname "$0")/common.sh"
$KG bench --decode 4 --device cuda --schemes q4g128,q3g128 --reps 50 --warmup 10 --json $OUT/decode-8b-shapes.json 2>&1 | tail -6
