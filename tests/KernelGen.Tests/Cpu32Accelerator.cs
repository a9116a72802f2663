using System;
using ILGPU;
using ILGPU.Runtime;
using ILGPU.Runtime.CPU;

namespace KernelGen.Tests;

/// <summary>ILGPU's CPU accelerator with 32-lane warps (as CUDA's), on which the tensor-core kernels' mma fragments
/// are emulated with warp shuffles.</summary>
internal sealed class Cpu32Accelerator : IDisposable
{
    private readonly Context context;

    public Cpu32Accelerator(int warpsPerGroup)
    {
        var device = new CPUDevice(32, warpsPerGroup, Math.Max(1, Environment.ProcessorCount));
        context = Context.Create(builder => builder.CPU(device));
        Accelerator = context.GetCPUDevice(0).CreateAccelerator(context);
    }

    public Accelerator Accelerator { get; }

    public void Dispose()
    {
        Accelerator.Dispose();
        context.Dispose();
    }
}
