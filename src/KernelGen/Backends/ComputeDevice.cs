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
    private readonly Lazy<Int8ActivationGemv> int8ActivationGemv;
    private readonly ConcurrentDictionary<(Type Scheme, GemvReduction Reduction), QuantKernels> kernels = new();

    private ComputeDevice(Context context, Accelerator accelerator, DeviceKind kind, string reason, bool withoutGenericAddressSpace = false)
    {
        this.context = context;
        WithoutGenericAddressSpace = withoutGenericAddressSpace;
        Accelerator = accelerator;
        Kind = kind;
        Reason = reason;
        Reduction = DefaultReduction(accelerator);
        tensorCores = new Lazy<TensorCoreGemv>(() => new TensorCoreGemv(accelerator));
        tensorCoreGemm = new Lazy<TensorCoreGemm>(() => new TensorCoreGemm(accelerator));
        int8ActivationGemv = new Lazy<Int8ActivationGemv>(() => new Int8ActivationGemv(accelerator));
    }

    /// <summary>The accelerator kernels run on.</summary>
    public Accelerator Accelerator { get; }

    /// <summary>The backend in use (never <see cref="DeviceKind.Auto"/>).</summary>
    public DeviceKind Kind { get; }

    /// <summary>The device's name, as ILGPU reports it.</summary>
    public string Name => Accelerator.Name;

    /// <summary>Why this device was chosen.</summary>
    public string Reason { get; }

    /// <summary>True for an OpenCL device without the generic address space (Debian 12's PoCL 3.1), which runs the kernels
    /// that ILGPU's O2 address-space inference types completely (all of KernelGen's; docs/opencl.md).</summary>
    public bool WithoutGenericAddressSpace { get; }

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
        var context = NewContext(enableProfiling, openClOnly: false);
        try
        {
            var (device, resolved, reason) = Choose(context, kind, why);
            if (device is CLDevice chosen)
            {
                // OpenCL runs from a context of its own that optimizes at O2 (see CreateOpenClAccelerator).
                var listed = context.GetCLDevices();
                int index = 0;
                while (!ReferenceEquals(listed[index], chosen))
                {
                    index++;
                }

                context.Dispose();
                context = NewContext(enableProfiling, openClOnly: true);
                var (accelerator, withoutGeneric) = CreateOpenClAccelerator(context, context.GetCLDevices()[index]);
                string note = withoutGeneric ? "; it has no generic address space, so every pointer is placed by ILGPU's O2 address-space inference" : string.Empty;
                return new ComputeDevice(context, accelerator, resolved, reason + note, withoutGeneric);
            }

            return new ComputeDevice(context, device.CreateAccelerator(context), resolved, reason);
        }
        catch
        {
            context.Dispose();
            throw;
        }
    }

    /// <summary>Every CUDA, OpenCL and CPU device, optimized as ILGPU does by default (O1: the PTX that
    /// <see cref="PtxPeephole"/> patches); or, for <paramref name="openClOnly"/>, the OpenCL devices alone at O2.</summary>
    private static Context NewContext(bool enableProfiling, bool openClOnly)
        => Context.Create(builder =>
        {
            if (openClOnly)
            {
                builder.OpenCL(_ => true).Optimize(OptimizationLevel.O2);
            }
            else
            {
                var cpu = new CPUDevice(CpuWarpSize, CpuWarpsPerGroup, Math.Max(1, Environment.ProcessorCount));
                builder.Cuda().OpenCL(_ => true).CPU(cpu);
            }

            builder.Math(MathMode.Default);
            if (enableProfiling)
            {
                builder.Profiling();
            }
        });

    /// <summary>
    /// The accelerator of <paramref name="device"/>, from a context at O2, and whether the device lacks the generic
    /// address space. ILGPU 1.5.3's OpenCL backend types every pointer it cannot place as <c>generic</c> and refuses
    /// devices without the generic address space (Debian 12's PoCL 3.1, NVIDIA's OpenCL); at O2 its address-space inference places all of KernelGen's pointers (global or
    /// local), so the OpenCL C it emits names no generic pointer and such devices build it (docs/opencl.md). There ILGPU's
    /// capability flag is set before the accelerator is created; should a kernel still need the generic address
    /// space, the device's compiler rejects it as the kernel loads, and <see cref="GetKernels{TScheme}(GemvReduction)"/>
    /// says so.
    /// </summary>
    private static (Accelerator Accelerator, bool WithoutGenericAddressSpace) CreateOpenClAccelerator(Context context, CLDevice device)
    {
        if (device.Capabilities.GenericAddressSpace)
        {
            return (device.CreateAccelerator(context), false);
        }

        var flag = typeof(CLCapabilityContext).GetField("<GenericAddressSpace>k__BackingField", System.Reflection.BindingFlags.NonPublic | System.Reflection.BindingFlags.Instance)
            ?? throw new InvalidOperationException(
                $"OpenCL device '{device.Name}' ({device.PlatformName}) lacks the generic address space, and this ILGPU ({typeof(Context).Assembly.GetName().Version}) is not the 1.5.3 whose check KernelGen knows how to pass. Use cpu or cuda.");
        flag.SetValue(device.Capabilities, true);
        return (device.CreateAccelerator(context), true);
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
                return FirstOpenClGpu(openCl) is CLDevice gpu
                    ? (gpu, DeviceKind.OpenCL, $"{why}: OpenCL, its first GPU")
                    : (openCl[0], DeviceKind.OpenCL, $"{why}: OpenCL");
            case DeviceKind.Cpu:
                return (context.GetCPUDevice(0), DeviceKind.Cpu, $"{why}: CPU accelerator");
            case DeviceKind.OpenCL:
                throw new InvalidOperationException($"{why}: {DescribeMissingOpenCl()} (devices present: {present}). Use cpu or cuda, or auto to take the best one present.");
            case DeviceKind.Cuda:
                throw new InvalidOperationException(
                    $"{why}: no {kind} device was found (devices present: {present}). Use cpu, or auto to take the best one present.");
        }

        // Auto: a CUDA GPU, else an OpenCL GPU, else an OpenCL CPU device (PoCL: compiled, vectorized kernels), else the
        // CPU accelerator.
        if (cuda.Count > 0)
        {
            return (cuda[0], DeviceKind.Cuda, $"{why}; auto chose the first CUDA device");
        }

        if (FirstOpenClGpu(openCl) is CLDevice openClGpu)
        {
            return (openClGpu, DeviceKind.OpenCL, $"{why}; auto found no CUDA device and chose the first OpenCL GPU");
        }

        if (openCl.Count > 0)
        {
            return (openCl[0], DeviceKind.OpenCL,
                $"{why}; auto found no GPU and chose the OpenCL CPU device, which runs compiled kernels");
        }

        return (context.GetCPUDevice(0), DeviceKind.Cpu,
            $"{why}; auto found no GPU and no OpenCL device, so it uses ILGPU's CPU accelerator (simulated threads: correct, slow; an OpenCL CPU driver such as pocl-opencl-icd runs compiled kernels)");
    }

    private static CLDevice? FirstOpenClGpu(Context.DeviceCollection<CLDevice> devices)
    {
        for (int i = 0; i < devices.Count; i++)
        {
            if (devices[i].DeviceType == CLDeviceType.CL_DEVICE_TYPE_GPU)
            {
                return devices[i];
            }
        }

        return null;
    }

    /// <summary>
    /// Why ILGPU lists no OpenCL device: no ICD loader (ILGPU opens the unversioned <c>libOpenCL.so</c>, which Debian's
    /// <c>ocl-icd-opencl-dev</c> provides), or a loader without a platform that has a device.
    /// </summary>
    internal static string DescribeMissingOpenCl()
    {
        if (!System.Runtime.InteropServices.NativeLibrary.TryLoad("libOpenCL.so", out var handle)
            && !System.Runtime.InteropServices.NativeLibrary.TryLoad("OpenCL", out handle))
        {
            return "no OpenCL device: the OpenCL ICD loader libOpenCL.so was not found (on Debian: apt install ocl-icd-opencl-dev and a driver such as pocl-opencl-icd)";
        }

        System.Runtime.InteropServices.NativeLibrary.Free(handle);
        return "no OpenCL device: the ICD loader found no platform with a device (is a driver such as pocl-opencl-icd installed?)";
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

        return kernels.GetOrAdd((typeof(TScheme), reduction), static (key, self) => self.LoadChecked(() => TScheme.LoadKernels(self.Accelerator, key.Reduction), $"the {typeof(TScheme).Name} kernels"), this);
    }

    /// <summary>Runs <paramref name="load"/> (a kernel load); on OpenCL, a program the device's compiler rejects
    /// becomes a <see cref="NotSupportedException"/> that names the device, <paramref name="what"/> and the way out,
    /// instead of ILGPU's bare <see cref="CLException"/> (the compiler's log goes to the process's standard error).</summary>
    internal T LoadChecked<T>(Func<T> load, string what)
    {
        try
        {
            return load();
        }
        catch (CLException e) when (Kind == DeviceKind.OpenCL)
        {
            string cause = WithoutGenericAddressSpace
                ? "; the likely cause is a pointer that ILGPU could not place in one address space, which needs the generic address space this device lacks"
                : string.Empty;
            throw new NotSupportedException(
                $"OpenCL device '{Name}' could not build {what} (OpenCL error {e.Error}){cause}. Use cpu or cuda.", e);
        }
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

    /// <summary>The decode GEMV with x rounded to int8 (<see cref="Backends.Int8ActivationGemv"/>) on CUDA devices, compiled
    /// on first use; null elsewhere (as <see cref="TensorCores"/>).</summary>
    public Int8ActivationGemv? Int8ActivationGemv => Kind == DeviceKind.Cuda && Accelerator.WarpSize == 32 ? int8ActivationGemv.Value : null;

    /// <summary>One line: kind, name, and why it was chosen.</summary>
    public override string ToString() => $"{Kind.ToString().ToLowerInvariant()}: {Name} ({Reason})";

    /// <inheritdoc />
    public void Dispose()
    {
        Accelerator.Dispose();
        context.Dispose();
    }
}
