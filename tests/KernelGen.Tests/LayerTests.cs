using System;
using KernelGen.Backends;
using KernelGen.Layers;
using KernelGen.Tensors;
using Xunit;

namespace KernelGen.Tests;

/// <summary>QuantLinear's contract: shapes and devices checked with both shapes in the message.</summary>
[Collection(DeviceCollection.Name)]
public sealed class LayerTests
{
    private readonly DeviceFixture fixture;

    public LayerTests(DeviceFixture fixture) => this.fixture = fixture;

    /// <summary>Off CUDA, a quantized layer asked to round its activations to int8 rounds x on the host as the CUDA kernel
    /// does (per 128 columns; K = 160 pads to 192 for groups of 64, the padding staying zero), so its output is W·x over
    /// the rounded x (float64 reference, rounding implemented in the test), and a layer stacked from it keeps the
    /// setting.</summary>
    [Fact]
    public void QuantizedLinear_QuantizeActivations_RoundsXOnTheHost()
    {
        var device = fixture.Cpu;
        var random = TestData.CreateRandom(nameof(QuantizedLinear_QuantizeActivations_RoundsXOnTheHost));
        var weights = TestData.Weights(random, 12, 160, 32);
        using var layer = new QuantizedLinear<B2G64A>(device, weights, 12, 160) { QuantizeActivations = true };
        using var plain = new QuantizedLinear<B2G64A>(device, weights, 12, 160) { QuantizeActivations = false };
        var x = TestData.Activations(random, 160);
        var y = new float[12];
        var unrounded = new float[12];
        layer.Forward(x, y);
        plain.Forward(x, unrounded);

        var padded = new float[192];
        x.CopyTo(padded, 0);
        var (rounded, _) = Int8ActivationGemvTests.RoundActivations(padded);
        var w = layer.Weights.Dequantize();
        double differs = 0;
        for (int r = 0; r < 12; r++)
        {
            double expected = 0, magnitude = 0;
            for (int k = 0; k < 192; k++)
            {
                expected += w[(r * 192) + k] * rounded[k];
                magnitude += Math.Abs(w[(r * 192) + k] * rounded[k]);
            }

            Assert.True(Math.Abs(y[r] - expected) <= (1e-5 * magnitude) + 1e-30, FormattableString.Invariant($"row {r}: {y[r]} against {expected}"));
            differs = Math.Max(differs, Math.Abs(y[r] - unrounded[r]));
        }

        Assert.True(differs > 0, "rounding x changed no output");
        using var stacked = (QuantizedLinear<B2G64A>)layer.TryStackRows(new ILinearLayer[] { plain })!;
        Assert.True(stacked.QuantizeActivations);
    }

    /// <summary>What `kernelgen eval` wraps projections in under KERNELGEN_INT8_X=1: the inner layer over x rounded per 128
    /// columns (K = 200: a partial last block rounded by its own |x|max), against the test's own rounding.</summary>
    [Fact]
    public void RoundedActivationsLinear_RunsTheInnerLayerOverRoundedX()
    {
        var random = TestData.CreateRandom(nameof(RoundedActivationsLinear_RunsTheInnerLayerOverRoundedX));
        var w = TestData.Activations(random, 3 * 200);
        var x = TestData.Activations(random, 200);
        using var layer = new RoundedActivationsLinear(new DenseLinear(w, 3, 200));
        Assert.Equal(200, layer.InFeatures);
        Assert.Equal(3, layer.OutFeatures);
        var y = new float[3];
        layer.Forward(x, y);
        var (rounded, _) = Int8ActivationGemvTests.RoundActivations(x);
        for (int r = 0; r < 3; r++)
        {
            double expected = 0, magnitude = 0;
            for (int k = 0; k < 200; k++)
            {
                expected += w[(r * 200) + k] * rounded[k];
                magnitude += Math.Abs(w[(r * 200) + k] * rounded[k]);
            }

            Assert.True(Math.Abs(y[r] - expected) <= (1e-5 * magnitude) + 1e-30, FormattableString.Invariant($"row {r}: {y[r]} against {expected}"));
        }
    }

    [Fact]
    public void Forward_RejectsMismatchedShapes_NamingBoth()
    {
        var device = fixture.Cpu;
        var q = B4G32A.Quantize(TestData.Weights(TestData.CreateRandom("shapes"), 8, 64, 32), 8, 64);
        using var layer = new QuantLinear<B4G32A>(device, q);
        Assert.Equal(64, layer.InFeatures);
        Assert.Equal(8, layer.OutFeatures);

        using var wrongK = DeviceTensor.Allocate(device, 2, 32);
        using var y = DeviceTensor.Allocate(device, 2, 8);
        var e1 = Assert.Throws<ArgumentException>(() => layer.Forward(wrongK, y));
        Assert.Contains("x has shape [2 × 32] but this layer's weight is [8 × 64]", e1.Message);

        using var x = DeviceTensor.Allocate(device, 2, 64);
        using var wrongY = DeviceTensor.Allocate(device, 3, 8);
        var e2 = Assert.Throws<ArgumentException>(() => layer.Forward(x, wrongY));
        Assert.Contains("y has shape [3 × 8] but x [2 × 64] · Wᵀ [64 × 8] is [2 × 8]", e2.Message);

        var e3 = Assert.Throws<ArgumentException>(() => layer.Forward(new float[100], 2));
        Assert.Contains("x has 100 values, which is not [2 × 64]", e3.Message);

        var e4 = Assert.Throws<ArgumentException>(() => DeviceTensor.Allocate(device, 0, 4));
        Assert.Contains("[0 × 4]", e4.Message);
    }

    [Fact]
    public void Forward_RejectsTensorsOfAnotherDevice()
    {
        using var other = ComputeDevice.Create(DeviceKind.Cpu);
        var q = B8G32S.Quantize(TestData.Weights(TestData.CreateRandom("devices"), 4, 32, 32), 4, 32);
        using var layer = new QuantLinear<B8G32S>(fixture.Cpu, q);
        using var x = DeviceTensor.Allocate(other, 1, 32);
        using var y = DeviceTensor.Allocate(fixture.Cpu, 1, 4);
        var e = Assert.Throws<ArgumentException>(() => layer.Forward(x, y));
        Assert.Contains("x lives on cpu", e.Message);
        Assert.Contains("create the tensor on the layer's device", e.Message);
    }

    [Fact]
    public void HostForward_EqualsDeviceForward()
    {
        var random = TestData.CreateRandom("host");
        var q = B6G32A.Quantize(TestData.Weights(random, 5, 64, 32), 5, 64);
        using var layer = new QuantLinear<B6G32A>(fixture.Cpu, q);
        var x = TestData.Activations(random, 2 * 64);
        using var input = DeviceTensor.FromHost(fixture.Cpu, x, 2, 64);
        using var output = DeviceTensor.Allocate(fixture.Cpu, 2, 5);
        layer.Forward(input, output);
        Assert.Equal(output.ToHost(), layer.Forward(x, 2));
    }
}
