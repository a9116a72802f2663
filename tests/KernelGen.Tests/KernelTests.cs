using System;
using ILGPU.Runtime;
using KernelGen.Backends;
using KernelGen.Layers;
using KernelGen.Quantization;
using KernelGen.Tensors;
using Xunit;

namespace KernelGen.Tests;

/// <summary>
/// Every scheme's ILGPU kernels against the reference: dequantize bit-exact, GEMV (both reductions) and GEMM against
/// float64 math on the dequantized weights. Outputs are poisoned with NaN first, so an unwritten element fails.
/// </summary>
[Collection(DeviceCollection.Name)]
public sealed class KernelTests
{
    private const int N = 37;   // odd: partial warps, partial GEMM tiles, a partial block of zero points
    private const int K = 256;
    private const double Tolerance = 1e-5;

    private readonly DeviceFixture fixture;

    public KernelTests(DeviceFixture fixture) => this.fixture = fixture;

    [Theory]
    [MemberData(nameof(SchemeMatrix.Names), MemberType = typeof(SchemeMatrix))]
    public void Kernels_MatchTheReference(string scheme) => SchemeMatrix.Invoke(this, nameof(CheckKernels), scheme);

    private void CheckKernels<TScheme>()
        where TScheme : struct, IQuantScheme
    {
        var info = TScheme.Info;
        var random = TestData.CreateRandom(nameof(CheckKernels) + info.Name);
        var q = QuantizedMatrix<TScheme>.Quantize(TestData.Weights(random, N, K, info.IsPerChannel ? K : info.GroupSize), N, K);
        var w = q.Dequantize();

        foreach (var device in fixture.Devices)
        {
            using var layer = new QuantLinear<TScheme>(device, q);
            Assert.Equal(w, layer.DequantizeOnDevice());

            foreach (int m in new[] { 1, 3, 17 })
            {
                var x = TestData.Activations(random, m * K);
                var expected = Reference.MatMul(x, w, m, N, K);
                using var input = DeviceTensor.FromHost(device, x, m, K);
                using var output = DeviceTensor.FromHost(device, Poison(m * N), m, N);
                layer.Forward(input, output);
                double error = Reference.RelativeError(output.ToHost(), expected);
                Assert.True(error < Tolerance, TestData.Describe($"{info.Name} on {device.Kind}, M = {m}: relative error {error:E2}"));
            }

            // Both GEMV variants, whichever the device would choose by default.
            foreach (var reduction in device.Reduction == GemvReduction.WarpShuffle
                ? new[] { GemvReduction.WarpShuffle, GemvReduction.SharedMemory }
                : new[] { GemvReduction.SharedMemory })
            {
                var kernels = device.GetKernels<TScheme>(reduction);
                var x = TestData.Activations(random, K);
                var expected = Reference.MatMul(x, w, 1, N, K);
                var accelerator = device.Accelerator;
                using var packed = accelerator.Allocate1D(q.Packed);
                using var scales = accelerator.Allocate1D(q.Scales);
                using var zeros = accelerator.Allocate1D(q.Zeros.Length > 0 ? q.Zeros : new uint[1]);
                using var input = accelerator.Allocate1D(x);
                using var output = accelerator.Allocate1D(Poison(N));
                kernels.Gemv(accelerator, q.Dims, packed.View, scales.View, zeros.View, input.View, output.View);
                double error = Reference.RelativeError(output.GetAsArray1D(), expected);
                Assert.True(error < Tolerance, TestData.Describe($"{info.Name} GEMV {reduction} on {device.Kind}: relative error {error:E2}"));
            }
        }
    }

    /// <summary>K = 4224 = 33 · 128 = 132 chunks spans one full shared-memory tile of the warp GEMV (128 chunks) and a partial one.</summary>
    [Theory]
    [InlineData(nameof(B4G128A))]
    [InlineData(nameof(B3G32S))]
    [InlineData(nameof(B5GPCA))]
    public void Gemv_AcrossSeveralActivationTiles(string scheme) => SchemeMatrix.Invoke(this, nameof(CheckLongRows), scheme);

    private void CheckLongRows<TScheme>()
        where TScheme : struct, IQuantScheme
    {
        const int rows = 9, cols = 4224;
        var info = TScheme.Info;
        var random = TestData.CreateRandom(nameof(CheckLongRows) + info.Name);
        var q = QuantizedMatrix<TScheme>.Quantize(TestData.Weights(random, rows, cols, info.IsPerChannel ? cols : info.GroupSize), rows, cols);
        var x = TestData.Activations(random, cols);
        var expected = Reference.MatMul(x, q.Dequantize(), 1, rows, cols);
        foreach (var device in fixture.Devices)
        {
            using var layer = new QuantLinear<TScheme>(device, q);
            using var input = DeviceTensor.FromHost(device, x, 1, cols);
            using var output = DeviceTensor.FromHost(device, Poison(rows), 1, rows);
            layer.Forward(input, output);
            double error = Reference.RelativeError(output.ToHost(), expected);
            Assert.True(error < Tolerance, TestData.Describe($"{info.Name} on {device.Kind}, K = {cols}: relative error {error:E2}"));
        }
    }

    private static float[] Poison(int count)
    {
        var values = new float[count];
        Array.Fill(values, float.NaN);
        return values;
    }
}
