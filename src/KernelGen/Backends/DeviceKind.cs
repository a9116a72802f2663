namespace KernelGen.Backends;

/// <summary>Which ILGPU backend runs the kernels.</summary>
public enum DeviceKind
{
    /// <summary>The best available: a CUDA GPU, else an OpenCL GPU, else the CPU accelerator.</summary>
    Auto,

    /// <summary>ILGPU's CPU accelerator: simulates GPU threads with OS threads. Runs everywhere; correct but slow.</summary>
    Cpu,

    /// <summary>An OpenCL device (ILGPU's OpenCL backend).</summary>
    OpenCL,

    /// <summary>An NVIDIA GPU through CUDA.</summary>
    Cuda,
}
