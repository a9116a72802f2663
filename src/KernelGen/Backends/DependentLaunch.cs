using System;
using System.Runtime.InteropServices;
using ILGPU;
using ILGPU.Runtime;
using ILGPU.Runtime.Cuda;

namespace KernelGen.Backends;

/// <summary>
/// Programmatic dependent launch (compute capability 9.0): a kernel launched through <c>cuLaunchKernelEx</c> with
/// <c>CU_LAUNCH_ATTRIBUTE_PROGRAMMATIC_STREAM_SERIALIZATION</c> may start while the kernel before it in the stream still
/// runs, once that one's blocks have executed <c>griddepcontrol.launch_dependents</c>; it runs its prologue and waits in
/// <c>griddepcontrol.wait</c> for the first kernel's results. The GEMV at M &gt; 8 on large weights is launched this way
/// behind x's conversion (<see cref="TensorCoreGemm.PrepareKernel{TMma}"/>), whose 2.6–3.0 µs on an H200 (ncu, session
/// 25) it otherwise waits out whole. ILGPU 1.5.3 launches with <c>cuLaunchKernel</c> only, so this calls the driver
/// itself with the CUfunction ILGPU loaded; KERNELGEN_PDL=0 turns it off.
/// </summary>
internal static unsafe class DependentLaunch
{
    /// <summary>CU_LAUNCH_ATTRIBUTE_PROGRAMMATIC_STREAM_SERIALIZATION.</summary>
    private const int ProgrammaticStreamSerialization = 6;

    private static readonly Lazy<nint> LaunchKernelEx = new(() =>
        NativeLibrary.TryLoad(OperatingSystem.IsWindows() ? "nvcuda.dll" : "libcuda.so.1", out var library)
        && NativeLibrary.TryGetExport(library, "cuLaunchKernelEx", out var function) ? function : 0);

    /// <summary>Whether the kernels are built and launched for it: unless KERNELGEN_PDL=0.</summary>
    public static bool Enabled { get; } = Environment.GetEnvironmentVariable("KERNELGEN_PDL") != "0";

    /// <summary>Whether kernels for <paramref name="accelerator"/> are built with their <c>griddepcontrol</c> markers
    /// enabled (<see cref="PtxPeephole.EnableDependentLaunch"/>): <see cref="Enabled"/> on compute capability 9.0 or later.</summary>
    public static bool Targets(CudaAccelerator accelerator) => Enabled && accelerator.Architecture >= CudaArchitecture.SM_90;

    /// <summary>Whether <paramref name="accelerator"/> launches this way: <see cref="Targets"/>, the PTX rewrites on
    /// (<see cref="PtxPeephole.Enabled"/>), and a driver that exports <c>cuLaunchKernelEx</c> (CUDA 12.0 and later).</summary>
    public static bool Supported(Accelerator accelerator)
        => accelerator is CudaAccelerator cuda && Targets(cuda) && PtxPeephole.Enabled && LaunchKernelEx.Value != 0;

    /// <summary>A kernel parameter that is an <see cref="ArrayView{T}"/>, as ILGPU passes it: the address of the view's
    /// first element and its length in elements (<c>.param .align 8 .b8 [16]</c>).</summary>
    [StructLayout(LayoutKind.Sequential)]
    public readonly struct View
    {
        public readonly ulong Address;
        public readonly long Length;

        private View(ulong address, long length)
        {
            Address = address;
            Length = length;
        }

        public static View Of<T>(ArrayView<T> view)
            where T : unmanaged
            => view.Length == 0 ? default : new View((ulong)view.LoadEffectiveAddressAsPtr().ToInt64(), view.Length);
    }

    [StructLayout(LayoutKind.Sequential)]
    private struct LaunchAttribute
    {
        public int Id;
        public int Padding;
        public fixed byte Value[64]; // CUlaunchAttributeValue, a union of 64 bytes
    }

    [StructLayout(LayoutKind.Sequential)]
    private struct LaunchConfig
    {
        public uint GridX, GridY, GridZ, BlockX, BlockY, BlockZ, SharedBytes;
        public nint Stream;
        public LaunchAttribute* Attributes;
        public uint AttributeCount;
    }

    /// <summary><see cref="Launch(CudaKernel, AcceleratorStream, KernelConfig, void**)"/> of a kernel whose parameters are
    /// <paramref name="views"/> in order, then <paramref name="shape"/> and <paramref name="address"/> (the form of the
    /// GEMV kernels: their views, their shape struct and the weights' device address).</summary>
    public static void Launch<TShape>(CudaKernel kernel, AcceleratorStream stream, KernelConfig config, ReadOnlySpan<View> views, TShape shape, ulong address)
        where TShape : unmanaged
    {
        void** parameters = stackalloc void*[views.Length + 2];
        fixed (View* first = views)
        {
            for (int i = 0; i < views.Length; i++)
            {
                parameters[i] = first + i;
            }

            parameters[views.Length] = &shape;
            parameters[views.Length + 1] = &address;
            Launch(kernel, stream, config, parameters);
        }
    }

    /// <summary>Launches <paramref name="kernel"/> on <paramref name="stream"/> with a programmatic dependency on the
    /// kernel queued before it; <paramref name="parameters"/> point at the kernel's parameters in order, each laid out
    /// as ILGPU lays it out (<see cref="View"/>, plain structs, scalars).</summary>
    /// <exception cref="InvalidOperationException">The driver refused the launch; the message carries its error code.</exception>
    public static void Launch(CudaKernel kernel, AcceleratorStream stream, KernelConfig config, void** parameters)
    {
        if (config.SharedMemoryConfig.UsesDynamicSharedMemory)
        {
            throw new NotSupportedException("Dependent launches pass no dynamic shared memory; this kernel declares some.");
        }

        var attribute = new LaunchAttribute { Id = ProgrammaticStreamSerialization };
        *(int*)attribute.Value = 1;
        var launch = new LaunchConfig
        {
            GridX = (uint)config.GridDim.X,
            GridY = (uint)config.GridDim.Y,
            GridZ = (uint)config.GridDim.Z,
            BlockX = (uint)config.GroupDim.X,
            BlockY = (uint)config.GroupDim.Y,
            BlockZ = (uint)config.GroupDim.Z,
            Stream = ((CudaStream)stream).StreamPtr,
            Attributes = &attribute,
            AttributeCount = 1,
        };
        var function = (delegate* unmanaged<LaunchConfig*, nint, void**, void**, int>)LaunchKernelEx.Value;
        int error = function(&launch, kernel.FunctionPtr, parameters, null);
        if (error != 0)
        {
            throw new InvalidOperationException($"cuLaunchKernelEx failed with CUDA error {error} for {kernel.CompiledKernel.Name}; set KERNELGEN_PDL=0 to launch through ILGPU instead.");
        }
    }
}
