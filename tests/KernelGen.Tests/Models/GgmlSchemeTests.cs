using System;
using System.Buffers.Binary;
using KernelGen.Formats.Gguf;
using KernelGen.Layers;
using KernelGen.Quantization;
using KernelGen.Tensors;
using Xunit;

namespace KernelGen.Tests.Models;

/// <summary>ggml's Q8_0 and Q4_0 blocks run through the generated kernels, bit-exact with ggml's dequantization.</summary>
[Collection(DeviceCollection.Name)]
public sealed class GgmlSchemeTests
{
    private const int Rows = 37, Cols = 256;
    private readonly DeviceFixture fixture;

    public GgmlSchemeTests(DeviceFixture fixture) => this.fixture = fixture;

    [Fact]
    public void Q8_0_Blocks_RunBitExactThroughGeneratedKernels()
    {
        var random = TestData.CreateRandom(nameof(Q8_0_Blocks_RunBitExactThroughGeneratedKernels));
        var blocks = RandomBlocks(random, 34);
        var matrix = GgmlBlocks.FromQ8_0(blocks, Rows, Cols);
        Check(matrix, GgmlType.Q8_0, blocks, random);
        Assert.Equal(blocks, GgmlBlocks.ToQ8_0(matrix));
    }

    [Fact]
    public void Q4_0_Blocks_RunBitExactThroughGeneratedKernels()
    {
        var random = TestData.CreateRandom(nameof(Q4_0_Blocks_RunBitExactThroughGeneratedKernels));
        var blocks = RandomBlocks(random, 18);
        var matrix = GgmlBlocks.FromQ4_0(blocks, Rows, Cols);
        Check(matrix, GgmlType.Q4_0, blocks, random);
        Assert.Equal(blocks, GgmlBlocks.ToQ4_0(matrix));
    }

    private void Check<TScheme>(QuantizedMatrix<TScheme> matrix, GgmlType type, byte[] blocks, Random random)
        where TScheme : struct, IQuantScheme
    {
        var expected = new float[Rows * Cols];
        GgmlDequantize.Row(type, blocks, expected);
        Assert.Equal(expected, matrix.Dequantize()); // the generated reference code
        foreach (var device in fixture.Devices)
        {
            using var layer = new QuantLinear<TScheme>(device, matrix);
            var onDevice = layer.DequantizeOnDevice();
            for (int i = 0; i < expected.Length; i++)
            {
                Assert.True(BitConverter.SingleToInt32Bits(expected[i]) == BitConverter.SingleToInt32Bits(onDevice[i]), TestData.Describe($"{type} element {i}: kernel {onDevice[i]}, ggml {expected[i]}"));
            }

            var x = TestData.Activations(random, Cols);
            var y = layer.Forward(x, 1);
            double error = Reference.RelativeError(y, Reference.MatMul(x, expected, 1, Rows, Cols));
            Assert.True(error < 1e-5, TestData.Describe($"{type} GEMV on {device.Kind}: relative error {error:E2}"));
        }
    }

    /// <summary>Random quant bytes and finite fp16 d (random magnitudes, both signs, a zero block).</summary>
    private static byte[] RandomBlocks(Random random, int blockBytes)
    {
        var bytes = new byte[Rows * (Cols / 32) * blockBytes];
        random.NextBytes(bytes);
        for (int b = 0; b < Rows * (Cols / 32); b++)
        {
            double d = b == 3 ? 0 : (random.NextDouble() - 0.5) * Math.Pow(2, random.Next(-12, 4));
            BinaryPrimitives.WriteHalfLittleEndian(bytes.AsSpan(b * blockBytes), (Half)d);
        }

        return bytes;
    }
}
