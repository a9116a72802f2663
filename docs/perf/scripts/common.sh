#!/bin/bash
# Shared start of the device scripts in this folder. They run from .devbundle/ (copy them there beside common.sh and
# the bundle that ../shared/device/bundle.sh writes): unpack the self-contained kernelgen, set the .NET environment,
# and define t, which prints a bench log's copy ceiling, empty launch, errors and per-case lines (scheme, N×K, M, µs,
# GB/s, and from session 21 on the µs of reading the case's bytes alone, ours ÷ that, TFLOP/s; before it, TFLOP/s).
# From session 25 on: the compiled-kernel cache lives in /tmp/kgcache, seeded from .devbundle/kgcache.tar.gz when a
# previous call sent one back (entries of another KernelGen build are simply not found), and save_cache writes it to
# $OUT for the next call to carry: a call whose kernels are cached skips ILGPU's compiles (64 s -> 7 s for the q4g128
# table; gemv.md, session 25).
cd "$(dirname "$0")/.."
rm -rf /tmp/kg && tar -C /tmp -xJf .devbundle/kg.tar.xz
export DOTNET_NOLOGO=1 DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_SYSTEM_GLOBALIZATION_INVARIANT=1
export KERNELGEN_KERNEL_CACHE=/tmp/kgcache
rm -rf /tmp/kgcache && mkdir -p /tmp/kgcache
if [ -f .devbundle/kgcache.tar.gz ]; then tar -C /tmp -xzf .devbundle/kgcache.tar.gz; fi
KG=/tmp/kg/KernelGen.Cli
nvidia-smi --query-gpu=name,driver_version --format=csv,noheader
t() { grep -E "^copy|^empty|rror" $1; grep -E "^q[0-9a-z]+ +[0-9]+x[0-9]+ +[0-9]+ " $1 | awk '{if (NF >= 10) print $1, $2, $3, $4, $5, $7, $8, $9; else print $1, $2, $3, $4, $5, $7}'; }
save_cache() { tar -C /tmp -czf $OUT/kgcache.tar.gz kgcache; }
