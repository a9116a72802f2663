#!/bin/bash
# Session 32, call 9 (H200): call 7's decode steps with int8 x on every layer (KERNELGEN_X8_ALWAYS=1): with the same
# kernel in the stacked and separate models, do their logits agree as with f16 x? (Call 7's 2.4 against 0.042 came
# from shapes that keep the f16 kernel in one model and take the int8 kernel in the other.)
source "$(dirname "$0")/common.sh"
KERNELGEN_INT8_X=1 KERNELGEN_X8_ALWAYS=1 timeout 150 $KG bench --device cuda --decode 4 --schemes q8pcs --reps 30 > $OUT/x8always.txt 2>&1; echo "rc $?"; tail -4 $OUT/x8always.txt
