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
