namespace KernelGen.Backends;

/// <summary>How the GEMV kernel sums a row's partial dot products.</summary>
public enum GemvReduction
{
    /// <summary>One warp per row, warp-shuffle reduction. Needs sub-groups (CUDA; ILGPU's CPU accelerator).</summary>
    WarpShuffle,

    /// <summary>One group per row, shared-memory tree reduction. Runs on any device with shared memory and barriers;
    /// the choice for OpenCL devices.</summary>
    SharedMemory,
}
