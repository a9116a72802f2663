namespace KernelGen.Backends;

/// <summary>The launch shapes a scheme's kernels were generated for.</summary>
/// <param name="GemvSharedThreads">Threads per group of the shared-memory GEMV.</param>
/// <param name="GemmTileM">Activation rows per GEMM group.</param>
/// <param name="GemmTileN">Output columns per GEMM group.</param>
/// <param name="GemvRowsPerWarp">Output rows per warp of the warp-shuffle GEMV.</param>
/// <param name="GemvWarpsPerGroup">Warps per group of the warp-shuffle GEMV, at most.</param>
public sealed record KernelGeometry(int GemvSharedThreads, int GemmTileM, int GemmTileN, int GemvRowsPerWarp, int GemvWarpsPerGroup);
