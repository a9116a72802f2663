#!/bin/bash
# Session 21, call 7: the Hopper probe (docs/perf/probes/HopperProbe): can a kernel that ILGPU 1.5.3 loads and launches
# use thread-block clusters (a .reqnctapercluster directive in the PTX), distributed shared memory, cp.async.bulk
# multicast with mbarriers, and 100 KiB of dynamic shared memory (cuFuncSetAttribute on ILGPU's CUfunction)?
# Bundle: ../shared/device/bundle.sh docs/perf/probes/HopperProbe/HopperProbe.csproj probe
cd "$(dirname "$0")/.."
nvidia-smi --query-gpu=name,driver_version --format=csv,noheader
bash .devbundle/run-probe.sh; rc=$?
echo "probe rc $rc"
if [ -f $OUT/probe.ptx ]; then /usr/local/cuda-13.0/bin/ptxas -arch=sm_90a -v $OUT/probe.ptx -o /tmp/probe.cubin 2>&1 | tail -4; fi
