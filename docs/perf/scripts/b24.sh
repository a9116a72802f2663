#!/bin/bash
# v34 rule on K = 4096 shapes (fused qkv 6144x4096, gate/up 14336x4096, fused gate+up 28672x4096): q3g128 M = 1, 16 staged (rule) vs registers (KERNELGEN_GEMV_STAGES=0), rule twice.
cd "$(dirname "$0")/.."
rm -rf /tmp/kg && tar -C /tmp -xJf .devbundle/kg.tar.xz
export DOTNET_NOLOGO=1 DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_SYSTEM_GLOBALIZATION_INVARIANT=1
KG=/tmp/kg/KernelGen.Cli
nvidia-smi --query-gpu=name,driver_version --format=csv,noheader
t() { grep -E "^copy|rror" $1; grep -E "^q[0-9a-z]+ +[0-9]+x[0-9]+ +[0-9]+ " $1 | awk '{print $1, $2, $3, $4, $5, $7}'; }
r() { local name=$1; shift; env "$@" $KG bench --device cuda --m 1,16 --shapes 6144x4096,14336x4096,28672x4096 --schemes q3g128 --reps 30 --json $OUT/$name.json > /tmp/$name.txt 2>&1; echo "=== $name"; t /tmp/$name.txt; }
r k4096-rule-a X=1; r k4096-st0 KERNELGEN_GEMV_STAGES=0; r k4096-rule-b X=1
