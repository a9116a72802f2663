using System;
using ILGPU;
using ILGPU.Runtime;
using ILGPU.Runtime.CPU;

namespace KernelGen.Tests;

/// <summary>ILGPU's CPU accelerator with 32-lane warps (as CUDA's), on which the tensor-core kernels' mma fragments
/// are emulated with warp shuffles. It compiles at ILGPU's Debug optimization level with conservative inlining: ILGPU's
/// IR passes over one fully inlined kernel were what took the time (a GEMV variant ~40 s at Debug with default inlining,
/// ~245 s at O1; about 1 s with inlining left to the methods' own hints, so the GEMV test class went from 15 min to under
/// 4 min on this 2-core machine). What these tests check is the kernels' fragment bookkeeping and arithmetic, not ILGPU's
/// inliner or optimizer (CUDA compiles them inlined at O1, and the GPU bench checks those results against the CPU
/// reference). The test classes still keep one accelerator and its kernels for all their tests.</summary>
internal sealed class Cpu32Accelerator : IDisposable
{
    private readonly Context context;

    public Cpu32Accelerator(int warpsPerGroup)
    {
        // One multiprocessor: the tests launch one or two groups, and each multiprocessor keeps 32 threads per warp
        // of its own; the device tests running beside these in the suite share the same cores.
        var device = new CPUDevice(32, warpsPerGroup, 1);
        context = Context.Create(builder => builder.CPU(device).Optimize(OptimizationLevel.Debug).Inlining(InliningMode.Conservative));
        Accelerator = context.GetCPUDevice(0).CreateAccelerator(context);
    }

    public Accelerator Accelerator { get; }

    public void Dispose()
    {
        Accelerator.Dispose();
        context.Dispose();
    }
}
