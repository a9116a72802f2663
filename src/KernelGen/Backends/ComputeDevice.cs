using System;
using System.Collections.Concurrent;
using System.Linq;
using ILGPU;
using ILGPU.Runtime;
using ILGPU.Runtime.CPU;
using ILGPU.Runtime.Cuda;
using ILGPU.Runtime.OpenCL;

namespace KernelGen.Backends;

/// <summary>
/// One ILGPU context and one accelerator, chosen in code or by the <c>KERNELGEN_DEVICE</c> environment variable
/// (cpu | opencl | cuda | auto). It says which device it picked and why, and compiles each scheme's kernels once.
/// </summary>
public sealed class ComputeDevice : IDisposable
{
    /// <summary>The environment variable <see cref="FromEnvironment"/> reads.</summary>
    public const string EnvironmentVariable = "KERNELGEN_DEVICE";

    /// <summary>
    /// Warp width of the CPU accelerator. Kernels read <c>Warp.WarpSize</c> at run time, so 4-lane warps exercise the
    /// same shuffle and lane-stride code as CUDA's 32; measured on 2 cores, 32-lane warps made a 1024² GEMV 15× slower
    /// (1.6 s against 0.1 s) because ILGPU simulates each shuffle with a barrier across the warp's threads.
    /// </summary>
    public const int CpuWarpSize = 4;

    /// <summary>Warps per group on the CPU accelerator: 256 threads, as the 16 × 16 GEMM tile needs (ILGPU's
    /// default CPU device allows only 16).</summary>
    public const int CpuWarpsPerGroup = 64;

    private readonly Context context;
    private readonly Lazy<TensorCoreGemv> tensorCores;
    private readonly Lazy<TensorCoreGemm> tensorCoreGemm;
    private readonly ConcurrentDictionary<(Type Scheme, GemvReduction Reduction), QuantKernels> kernels = new();

    private ComputeDevice(Context context, Accelerator accelerator, DeviceKind kind, string reason)
    {
        this.context = context;
        Accelerator = accelerator;
        Kind = kind;
        Reason = reason;
        Reduction = DefaultReduction(accelerator);
        tensorCores = new Lazy<TensorCoreGemv>(() => new TensorCoreGemv(accelerator));
        tensorCoreGemm = new Lazy<TensorCoreGemm>(() => new TensorCoreGemm(accelerator));
    }

    /// <summary>The accelerator kernels run on.</summary>
    public Accelerator Accelerator { get; }

    /// <summary>The backend in use (never <see cref="DeviceKind.Auto"/>).</summary>
    public DeviceKind Kind { get; }

    /// <summary>The device's name, as ILGPU reports it.</summary>
    public string Name => Accelerator.Name;

    /// <summary>Why this device was chosen.</summary>
    public string Reason { get; }

    /// <summary>The GEMV reduction this device runs: warp shuffles on CUDA and the CPU accelerator, shared memory on OpenCL.</summary>
    public GemvReduction Reduction { get; }

    /// <summary>Opens the device named by <c>KERNELGEN_DEVICE</c> (cpu, opencl, cuda or auto; unset means auto).</summary>
    public static ComputeDevice FromEnvironment()
    {
        var value = Environment.GetEnvironmentVariable(EnvironmentVariable);
        if (string.IsNullOrWhiteSpace(value))
        {
            return Create(DeviceKind.Auto, $"{EnvironmentVariable} is not set", enableProfiling: false);
        }

        return Create(ParseKind(value, EnvironmentVariable), $"{EnvironmentVariable}={value.Trim()}", enableProfiling: false);
    }

    /// <summary>Opens a device of the given kind.</summary>
    /// <exception cref="InvalidOperationException">No device of that kind is present; the message lists those that are.</exception>
    public static ComputeDevice Create(DeviceKind kind = DeviceKind.Auto) => Create(kind, "requested in code", enableProfiling: false);

    /// <summary>Opens a device of the given kind; with <paramref name="enableProfiling"/>, streams accept
    /// profiling markers (device events) for timing.</summary>
    public static ComputeDevice Create(DeviceKind kind, bool enableProfiling) => Create(kind, "requested in code", enableProfiling);

    /// <summary>Parses cpu | opencl | cuda | auto (case-insensitive).</summary>
    /// <exception cref="ArgumentException">Any other value; the message names it and the accepted values.</exception>
    public static DeviceKind ParseKind(string value, string source = "device")
    {
        ArgumentNullException.ThrowIfNull(value);
        return value.Trim().ToLowerInvariant() switch
        {
            "auto" => DeviceKind.Auto,
            "cpu" => DeviceKind.Cpu,
            "opencl" or "cl" => DeviceKind.OpenCL,
            "cuda" or "gpu" => DeviceKind.Cuda,
            _ => throw new ArgumentException(
                $"{source} = '{value}' is not a device: use cpu, opencl, cuda or auto.", nameof(value)),
        };
    }

    private static ComputeDevice Create(DeviceKind kind, string why, bool enableProfiling)
    {
        var cpu = new CPUDevice(CpuWarpSize, CpuWarpsPerGroup, Math.Max(1, Environment.ProcessorCount));
        var context = Context.Create(builder =>
        {
            builder.Cuda().OpenCL().CPU(cpu).Math(MathMode.Default);
            if (enableProfiling)
            {
                builder.Profiling();
            }
        });
        try
        {
            var (device, resolved, reason) = Choose(context, kind, why);
            var accelerator = device.CreateAccelerator(context);
            return new ComputeDevice(context, accelerator, resolved, reason);
        }
        catch
        {
            context.Dispose();
            throw;
        }
    }

    private static (Device Device, DeviceKind Kind, string Reason) Choose(Context context, DeviceKind kind, string why)
    {
        var cuda = context.GetCudaDevices();
        var openCl = context.GetCLDevices();
        string present = string.Join(", ", context.Devices.Select(d => $"{d.AcceleratorType} '{d.Name}'"));
        switch (kind)
        {
            case DeviceKind.Cuda when cuda.Count > 0:
                return (cuda[0], DeviceKind.Cuda, $"{why}: CUDA");
            case DeviceKind.OpenCL when openCl.Count > 0:
                return (openCl[0], DeviceKind.OpenCL, $"{why}: OpenCL");
            case DeviceKind.Cpu:
                return (context.GetCPUDevice(0), DeviceKind.Cpu, $"{why}: CPU accelerator");
            case DeviceKind.OpenCL:
                throw new InvalidOperationException($"{why}: {DescribeMissingOpenCl()} (devices present: {present}). Use cpu or cuda, or auto to take the best one present.");
            case DeviceKind.Cuda:
                throw new InvalidOperationException(
                    $"{why}: no {kind} device was found (devices present: {present}). Use cpu, or auto to take the best one present.");
        }

        // Auto: a CUDA GPU, else an OpenCL GPU, else the CPU accelerator.
        if (cuda.Count > 0)
        {
            return (cuda[0], DeviceKind.Cuda, $"{why}; auto chose the first CUDA device");
        }

        for (int i = 0; i < openCl.Count; i++)
        {
            if (openCl[i].DeviceType == CLDeviceType.CL_DEVICE_TYPE_GPU)
            {
                return (openCl[i], DeviceKind.OpenCL, $"{why}; auto found no CUDA device and chose the first OpenCL GPU");
            }
        }

        return (context.GetCPUDevice(0), DeviceKind.Cpu,
            $"{why}; auto found no CUDA device or OpenCL GPU, so it uses ILGPU's CPU accelerator (simulated threads: correct, slow)");
    }

    /// <summary>
    /// Why ILGPU lists no OpenCL device: no ICD loader (ILGPU opens the unversioned <c>libOpenCL.so</c>), no platform,
    /// or devices without the generic address space that ILGPU 1.5.3's OpenCL backend requires (Debian 12's PoCL 3.1;
    /// its compiler also rejects the generated OpenCL C when ILGPU's check is bypassed, see docs/opencl.md).
    /// </summary>
    internal static string DescribeMissingOpenCl()
    {
        if (!System.Runtime.InteropServices.NativeLibrary.TryLoad("libOpenCL.so", out var handle)
            && !System.Runtime.InteropServices.NativeLibrary.TryLoad("OpenCL", out handle))
        {
            return "no OpenCL device: the OpenCL ICD loader libOpenCL.so was not found (on Debian: apt install ocl-icd-opencl-dev and a driver such as pocl-opencl-icd)";
        }

        System.Runtime.InteropServices.NativeLibrary.Free(handle);
        using var everything = Context.Create(builder => builder.OpenCL(_ => true));
        var devices = everything.GetCLDevices();
        if (devices.Count == 0)
        {
            return "no OpenCL device: the ICD loader found no platform with a device (is a driver such as pocl-opencl-icd installed?)";
        }

        var described = new string[devices.Count];
        for (int i = 0; i < described.Length; i++)
        {
            described[i] = $"'{devices[i].Name}' ({devices[i].PlatformName}, OpenCL C {devices[i].CVersion})";
        }

        var names = string.Join(", ", described);
        return $"no usable OpenCL device: {names} lack{(devices.Count == 1 ? "s" : string.Empty)} the generic address space that ILGPU 1.5.3's OpenCL backend requires";
    }

    /// <summary>
    /// Warp shuffles on CUDA and the CPU accelerator; shared memory on OpenCL, even where the device reports
    /// sub-groups: ILGPU 1.5.3's OpenCL code generator fails on a shuffle for the GPU machine's PoCL, which does
    /// report them ("Invalid code generation operation", 2026-11-26, docs/opencl.md).
    /// </summary>
    private static GemvReduction DefaultReduction(Accelerator accelerator) => accelerator switch
    {
        CLAccelerator => GemvReduction.SharedMemory,
        _ => GemvReduction.WarpShuffle,
    };

    /// <summary>The scheme's kernels on this device, compiled on first use and cached.</summary>
    public QuantKernels GetKernels<TScheme>()
        where TScheme : struct, IQuantScheme
        => GetKernels<TScheme>(Reduction);

    /// <summary>The scheme's kernels with a given GEMV reduction (tests run both variants on every device).</summary>
    /// <exception cref="NotSupportedException">Warp shuffles were asked of a device without sub-groups.</exception>
    public QuantKernels GetKernels<TScheme>(GemvReduction reduction)
        where TScheme : struct, IQuantScheme
    {
        if (reduction == GemvReduction.WarpShuffle && Reduction == GemvReduction.SharedMemory)
        {
            throw new NotSupportedException(
                $"{Name} cannot run warp-shuffle kernels (ILGPU 1.5.3 generates shuffles only for CUDA and its CPU accelerator): use GemvReduction.SharedMemory, the default for this device.");
        }

        return kernels.GetOrAdd((typeof(TScheme), reduction), static (key, accelerator) => TScheme.LoadKernels(accelerator, key.Reduction), Accelerator);
    }

    /// <summary>
    /// The tensor-core small-batch GEMV (M ≤ 16, over weights in <see cref="MmaPackedWeights"/> order) on CUDA devices,
    /// its kernels compiled on first use; null elsewhere (its mma is
    /// CUDA-only; tests drive its emulated form on a 32-lane CPU accelerator directly).
    /// </summary>
    public TensorCoreGemv? TensorCores => Kind == DeviceKind.Cuda && Accelerator.WarpSize == 32 ? tensorCores.Value : null;

    /// <summary>The tensor-core GEMM (M &gt; 16) on CUDA devices, compiled on first use; null elsewhere (as
    /// <see cref="TensorCores"/>).</summary>
    public TensorCoreGemm? TensorCoreGemm => Kind == DeviceKind.Cuda && Accelerator.WarpSize == 32 ? tensorCoreGemm.Value : null;

    /// <summary>One line: kind, name, and why it was chosen.</summary>
    public override string ToString() => $"{Kind.ToString().ToLowerInvariant()}: {Name} ({Reason})";

    /// <inheritdoc />
    public void Dispose()
    {
        Accelerator.Dispose();
        context.Dispose();
    }
}
