using System;
using ILGPU;
using ILGPU.Runtime;
using ILGPU.Runtime.CPU;
using KernelGen.Backends;
using KernelGen.Quantization;
using Xunit;

namespace KernelGen.Tests;

/// <summary>
/// The tensor-core small-batch GEMV on ILGPU's CPU accelerator with 32-lane warps, where its mma is emulated with
/// warp shuffles in the fragment layout PTX documents: the fragment bookkeeping (which lane holds which A, B and D
/// elements, code extraction, zero points, per-group scaling, clamped rows) against a float64 reference.
/// </summary>
public sealed class TensorCoreGemvTests : IDisposable
{
    private readonly Cpu32Accelerator cpu = new(TensorCoreGemv.WarpsPerGroup);

    private readonly Accelerator accelerator;

    public TensorCoreGemvTests() => accelerator = cpu.Accelerator;

    public void Dispose() => cpu.Dispose();

    [Fact]
    public void FourBitAsymmetricG128() => Check<B4G128A>(rows: 72, cols: 256);

    [Fact]
    public void FourBitSymmetricG32_WarpsSpanSeveralGroups() => Check<B4G32S>(rows: 40, cols: 1024);

    [Fact]
    public void EightBitPerChannelSymmetric() => Check<B8GPCS>(rows: 33, cols: 160);

    [Fact]
    public void TwoBitAsymmetricG32() => Check<B2G32A>(rows: 64, cols: 96);

    [Fact]
    public void Unsupported_SaysWhat()
    {
        Assert.False(TensorCoreGemv.Supports(B3G32A.Info, 256));
        Assert.True(TensorCoreGemv.Supports(B4G128A.Info, 256));
        using var kernels4 = new Context4();
        var e = Assert.Throws<NotSupportedException>(() => new TensorCoreGemv(kernels4.Accelerator));
        Assert.Contains("4-lane warps; the mma fragments need 32", e.Message);
    }

    private void Check<TScheme>(int rows, int cols)
        where TScheme : struct, IQuantScheme
    {
        var random = TestData.CreateRandom(typeof(TScheme).Name + nameof(TensorCoreGemvTests));
        var matrix = QuantizedMatrix<TScheme>.Quantize(TestData.Weights(random, rows, cols, TScheme.Info.IsPerChannel ? cols : TScheme.Info.GroupSize), rows, cols);
        var w = matrix.Dequantize();
        var tc = new TensorCoreGemv(accelerator);
        using var packed = accelerator.Allocate1D(matrix.Packed);
        using var scales = accelerator.Allocate1D(matrix.Scales);
        using var zeros = matrix.Zeros.Length > 0 ? accelerator.Allocate1D(matrix.Zeros) : accelerator.Allocate1D<uint>(1);
        using var fragments = accelerator.Allocate1D<uint>(TensorCoreGemv.FragmentLength(cols));
        foreach (int m in new[] { 1, 3, 16 })
        {
            var x = TestData.Activations(random, m * cols);
            using var input = accelerator.Allocate1D(x);
            using var output = accelerator.Allocate1D<float>((long)m * rows);
            output.MemSet(0xFF); // NaN: every element must be written
            tc.Run(matrix.Dims, TScheme.Info, packed.View, scales.View, zeros.View, input.View, fragments.View, output.View, m);
            accelerator.Synchronize();
            var y = output.GetAsArray1D();
            for (int i = 0; i < m; i++)
            {
                for (int n = 0; n < rows; n++)
                {
                    // Reference in float64 with x rounded to f16, as the tensor cores read it; and the scale of the sum.
                    double expected = 0, magnitude = 0;
                    for (int k = 0; k < cols; k++)
                    {
                        double xv = (double)(System.Half)x[(i * cols) + k];
                        expected += xv * w[(n * cols) + k];
                        magnitude += Math.Abs(xv * w[(n * cols) + k]);
                    }

                    double error = Math.Abs(y[(i * rows) + n] - expected);
                    Assert.True(error <= 1e-5 * magnitude + 1e-6, TestData.Describe($"{TScheme.Info} M={m} y[{i},{n}] = {y[(i * rows) + n]}, expected {expected} (|x||w| = {magnitude})"));
                }
            }
        }
    }

    /// <summary>A CPU accelerator with 4-lane warps, as ComputeDevice uses.</summary>
    private sealed class Context4 : IDisposable
    {
        private readonly Context context;

        public Context4()
        {
            context = Context.Create(builder => builder.CPU(new CPUDevice(4, 4, 1)));
            Accelerator = context.GetCPUDevice(0).CreateAccelerator(context);
        }

        public Accelerator Accelerator { get; }

        public void Dispose()
        {
            Accelerator.Dispose();
            context.Dispose();
        }
    }
}
