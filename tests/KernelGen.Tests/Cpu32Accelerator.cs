using System;
using ILGPU;
using ILGPU.Runtime;
using ILGPU.Runtime.CPU;

namespace KernelGen.Tests;

/// <summary>ILGPU's CPU accelerator with 32-lane warps (as CUDA's), on which the tensor-core kernels' mma fragments
/// are emulated with warp shuffles. It compiles at ILGPU's Debug optimization level: on this 2-core machine a GEMV
/// variant takes ~40 s at Debug and ~245 s at O1 (session 12; the GEMM kernels measured ~9 s and 35 s when this was chosen), runs in seconds,
/// so the test classes keep one accelerator and its kernels for all their tests; and what
/// these tests check is the kernels' fragment bookkeeping and arithmetic, not ILGPU's optimizer (CUDA compiles them
/// at O1, and the GPU bench checks those results against the CPU reference).</summary>
internal sealed class Cpu32Accelerator : IDisposable
{
    private readonly Context context;

    public Cpu32Accelerator(int warpsPerGroup)
    {
        // One multiprocessor: the tests launch one or two groups, and each multiprocessor keeps 32 threads per warp
        // of its own; the device tests running beside these in the suite share the same cores.
        var device = new CPUDevice(32, warpsPerGroup, 1);
        context = Context.Create(builder => builder.CPU(device).Optimize(OptimizationLevel.Debug));
        Accelerator = context.GetCPUDevice(0).CreateAccelerator(context);
    }

    public Accelerator Accelerator { get; }

    public void Dispose()
    {
        Accelerator.Dispose();
        context.Dispose();
    }
}
