using System;
using ILGPU;
using ILGPU.Runtime;
using KernelGen.Quantization;

namespace KernelGen.Backends;

/// <summary>
/// One scheme's compiled kernels on one accelerator, with their launch logic. Obtained from
/// <see cref="ComputeDevice.GetKernels{TScheme}()"/>, which compiles each scheme once per device.
/// </summary>
public sealed class QuantKernels
{
    private readonly Action<Index1D, ArrayView<uint>, ArrayView<ushort>, ArrayView<uint>, ArrayView<float>, QuantDims> dequantize;
    private readonly Action<KernelConfig, ArrayView<uint>, ArrayView<ushort>, ArrayView<uint>, ArrayView<float>, ArrayView<float>, QuantDims> gemv;
    private readonly Action<KernelConfig, ArrayView<uint>, ArrayView<ushort>, ArrayView<uint>, ArrayView<float>, ArrayView<float>, QuantDims, int> gemm;

    /// <summary>Called by generated <c>LoadKernels</c> methods.</summary>
    public QuantKernels(
        QuantSchemeInfo scheme,
        GemvReduction reduction,
        Action<Index1D, ArrayView<uint>, ArrayView<ushort>, ArrayView<uint>, ArrayView<float>, QuantDims> dequantize,
        Action<KernelConfig, ArrayView<uint>, ArrayView<ushort>, ArrayView<uint>, ArrayView<float>, ArrayView<float>, QuantDims> gemv,
        Action<KernelConfig, ArrayView<uint>, ArrayView<ushort>, ArrayView<uint>, ArrayView<float>, ArrayView<float>, QuantDims, int> gemm,
        KernelGeometry geometry)
    {
        Scheme = scheme;
        Reduction = reduction;
        this.dequantize = dequantize;
        this.gemv = gemv;
        this.gemm = gemm;
        Geometry = geometry;
    }

    /// <summary>The scheme these kernels were generated for.</summary>
    public QuantSchemeInfo Scheme { get; }

    /// <summary>The GEMV variant that was loaded.</summary>
    public GemvReduction Reduction { get; }

    /// <summary>The launch shapes the kernels assume.</summary>
    public KernelGeometry Geometry { get; }

    /// <summary>Expands the packed weights into output (rows · cols floats).</summary>
    public void Dequantize(QuantDims dims, ArrayView<uint> packed, ArrayView<ushort> scales, ArrayView<uint> zeros, ArrayView<float> output)
        => dequantize(dims.Rows * dims.ChunksPerRow, packed, scales, zeros, output, dims);

    /// <summary>y[N] = W · x[K] for one activation row.</summary>
    public void Gemv(Accelerator accelerator, QuantDims dims, ArrayView<uint> packed, ArrayView<ushort> scales, ArrayView<uint> zeros, ArrayView<float> x, ArrayView<float> y)
    {
        KernelConfig config;
        if (Reduction == GemvReduction.WarpShuffle)
        {
            // Whole warps per group; each warp owns GemvRowsPerWarp consecutive rows.
            int warps = Math.Max(1, Math.Min(Geometry.GemvWarpsPerGroup, accelerator.MaxNumThreadsPerGroup / accelerator.WarpSize));
            int rowsPerGroup = warps * Geometry.GemvRowsPerWarp;
            config = new KernelConfig((dims.Rows + rowsPerGroup - 1) / rowsPerGroup, warps * accelerator.WarpSize);
        }
        else
        {
            config = new KernelConfig(dims.Rows, Geometry.GemvSharedThreads);
        }

        gemv(config, packed, scales, zeros, x, y, dims);
    }

    /// <summary>y[M, N] = x[M, K] · Wᵀ with the tiled shared-memory kernel.</summary>
    public void Gemm(QuantDims dims, ArrayView<uint> packed, ArrayView<ushort> scales, ArrayView<uint> zeros, ArrayView<float> x, ArrayView<float> y, int m)
    {
        var groups = new Index2D((dims.Rows + Geometry.GemmTileN - 1) / Geometry.GemmTileN, (m + Geometry.GemmTileM - 1) / Geometry.GemmTileM);
        var config = new KernelConfig(groups, new Index2D(Geometry.GemmTileN, Geometry.GemmTileM));
        gemm(config, packed, scales, zeros, x, y, dims, m);
    }
}
