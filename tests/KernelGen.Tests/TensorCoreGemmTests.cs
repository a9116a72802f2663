using System;
using ILGPU;
using ILGPU.Runtime;
using ILGPU.Runtime.CPU;
using KernelGen.Backends;
using KernelGen.Quantization;
using Xunit;

namespace KernelGen.Tests;

/// <summary>
/// The tensor-core GEMM (M &gt; 16) on ILGPU's CPU accelerator with 32-lane warps, its mma emulated with warp shuffles in
/// PTX's fragment layout: m and n tiles, partial tiles at both edges, several blocks, group changes, zero points. The
/// reference is float64 over the numbers the tensor cores read: x rounded to f16 and each weight rounded to f16
/// after its scale is applied (<c>mul.rn.f16x2</c>), so only the f32 accumulation differs.
/// </summary>
public sealed class TensorCoreGemmTests : IDisposable
{
    private readonly Cpu32Accelerator cpu = new(TensorCoreGemm.Warps);

    private readonly Accelerator accelerator;

    public TensorCoreGemmTests() => accelerator = cpu.Accelerator;

    public void Dispose() => cpu.Dispose();

    [Fact]
    public void FourBitAsymmetricG128_SplitK() => Check<B4G128A>(rows: 72, cols: 256, 17, 70);

    [Fact]
    public void FourBitSymmetricG32() => Check<B4G32S>(rows: 40, cols: 128, 33);

    [Fact]
    public void EightBitPerChannelSymmetric() => Check<B8GPCS>(rows: 33, cols: 96, 130);

    [Fact]
    public void TwoBitAsymmetricG32() => Check<B2G32A>(rows: 64, cols: 64, 64);

    [Fact]
    public void BadArguments_SayWhat()
    {
        Assert.False(TensorCoreGemm.Supports(B3G32A.Info, 256));
        Assert.True(TensorCoreGemm.Supports(B8GPCS.Info, 96));
        Assert.False(TensorCoreGemm.Supports(B8GPCS.Info, 80)); // K not a multiple of 32
        var gemm = new TensorCoreGemm(accelerator);
        var matrix = QuantizedMatrix<B3G32A>.Quantize(TestData.Weights(TestData.CreateRandom("tc-gemm-3bit"), 8, 64, 32), 8, 64);
        using var buffer = accelerator.Allocate1D<uint>(1);
        using var floats = accelerator.Allocate1D<float>(1);
        var e = Assert.Throws<ArgumentException>(() => gemm.Run(matrix.Dims, B3G32A.Info, buffer.View, accelerator.Allocate1D<ushort>(1).View, buffer.View, floats.View, buffer.View, floats.View, 20));
        Assert.Contains("2-, 4- or 8-bit", e.Message);
        var four = QuantizedMatrix<B4G32A>.Quantize(TestData.Weights(TestData.CreateRandom("tc-gemm-small"), 8, 64, 32), 8, 64);
        var small = Assert.Throws<ArgumentException>(() => gemm.Run(four.Dims, B4G32A.Info, buffer.View, accelerator.Allocate1D<ushort>(1).View, buffer.View, floats.View, buffer.View, floats.View, 20));
        Assert.Contains($"needs {TensorCoreGemm.FragmentLength(20, 64)}", small.Message);
    }

    private void Check<TScheme>(int rows, int cols, params int[] ms)
        where TScheme : struct, IQuantScheme
    {
        var random = TestData.CreateRandom(typeof(TScheme).Name + nameof(TensorCoreGemmTests));
        var matrix = QuantizedMatrix<TScheme>.Quantize(TestData.Weights(random, rows, cols, TScheme.Info.IsPerChannel ? cols : TScheme.Info.GroupSize), rows, cols);
        var w = matrix.Dequantize(); // (code − zero) · scale, exact in float
        var gemm = new TensorCoreGemm(accelerator);
        using var packed = accelerator.Allocate1D(matrix.Packed);
        using var scales = accelerator.Allocate1D(matrix.Scales);
        using var zeros = matrix.Zeros.Length > 0 ? accelerator.Allocate1D(matrix.Zeros) : accelerator.Allocate1D<uint>(1);
        foreach (int m in ms)
        {
            using var fragments = accelerator.Allocate1D<uint>(TensorCoreGemm.FragmentLength(m, cols));
            var x = TestData.Activations(random, m * cols);
            using var input = accelerator.Allocate1D(x);
            using var output = accelerator.Allocate1D<float>((long)m * rows);
            output.MemSet(0xFF); // NaN: every element must be written
            gemm.Run(matrix.Dims, TScheme.Info, packed.View, scales.View, zeros.View, input.View, fragments.View, output.View, m);
            accelerator.Synchronize();
            var y = output.GetAsArray1D();
            Reference.AssertHalfInputProduct(x, w, y, m, rows, cols, roundWeights: true, TScheme.Info.ToString());
        }
    }
}
