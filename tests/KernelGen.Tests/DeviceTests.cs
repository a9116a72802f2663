using System;
using ILGPU.Runtime.Cuda;
using ILGPU.Runtime.OpenCL;
using KernelGen.Backends;
using Xunit;

namespace KernelGen.Tests;

/// <summary>Device choice: parsing, the environment variable, reasons, errors, the kernel cache.</summary>
[Collection(DeviceCollection.Name)]
public sealed class DeviceTests
{
    private readonly DeviceFixture fixture;

    public DeviceTests(DeviceFixture fixture) => this.fixture = fixture;

    [Theory]
    [InlineData("cpu", DeviceKind.Cpu)]
    [InlineData(" CUDA ", DeviceKind.Cuda)]
    [InlineData("OpenCL", DeviceKind.OpenCL)]
    [InlineData("auto", DeviceKind.Auto)]
    public void ParseKind_AcceptsTheFourNames(string text, DeviceKind expected) => Assert.Equal(expected, ComputeDevice.ParseKind(text));

    [Fact]
    public void ParseKind_RejectsOthers_NamingValueAndChoices()
    {
        var e = Assert.Throws<ArgumentException>(() => ComputeDevice.ParseKind("tpu", "KERNELGEN_DEVICE"));
        Assert.StartsWith("KERNELGEN_DEVICE = 'tpu' is not a device: use cpu, opencl, cuda or auto.", e.Message);
    }

    [Fact]
    public void Cpu_SaysWhatItIsAndWhy()
    {
        var cpu = fixture.Cpu;
        Assert.Equal(DeviceKind.Cpu, cpu.Kind);
        Assert.Equal(GemvReduction.WarpShuffle, cpu.Reduction);
        Assert.Equal(ComputeDevice.CpuWarpSize, cpu.Accelerator.WarpSize);
        Assert.StartsWith("cpu: ", cpu.ToString());
        Assert.Contains("requested in code", cpu.Reason);
    }

    [Fact]
    public void Cuda_IsChosenWhenPresent_AndExplainedWhenAbsent()
    {
        using var context = ILGPU.Context.Create(b => b.Cuda());
        if (context.GetCudaDevices().Count > 0)
        {
            using var cuda = ComputeDevice.Create(DeviceKind.Cuda);
            Assert.Equal(DeviceKind.Cuda, cuda.Kind);
        }
        else
        {
            var e = Assert.Throws<InvalidOperationException>(() => ComputeDevice.Create(DeviceKind.Cuda));
            Assert.Contains("no Cuda device was found (devices present: CPU", e.Message);
            Assert.Contains("Use cpu, or auto", e.Message);
        }
    }

    /// <summary>
    /// Independently of KernelGen, ask ILGPU for every OpenCL device, usable or not: where one has a generic address
    /// space, opencl must open; where all lack it (Debian 12's PoCL, which CI installs), the error must say so and name
    /// the device; with no loader or platform, the error must say what to install.
    /// </summary>
    [Fact]
    public void OpenCl_OpensOrSaysPreciselyWhatIsMissing()
    {
        int usable = 0, unusable = 0;
        string? firstName = null;
        try
        {
            using var context = ILGPU.Context.Create(b => b.OpenCL(_ => true));
            var devices = context.GetCLDevices();
            for (int i = 0; i < devices.Count; i++)
            {
                firstName ??= devices[i].Name;
                if (devices[i].Capabilities.GenericAddressSpace)
                {
                    usable++;
                }
                else
                {
                    unusable++;
                }
            }
        }
        catch (DllNotFoundException)
        {
            // no loader at all: handled like zero devices below
        }

        if (usable > 0)
        {
            using var device = ComputeDevice.Create(DeviceKind.OpenCL);
            Assert.Equal(DeviceKind.OpenCL, device.Kind);
            return;
        }

        var e = Assert.Throws<InvalidOperationException>(() => ComputeDevice.Create(DeviceKind.OpenCL));
        Assert.Contains("Use cpu or cuda", e.Message);
        if (unusable > 0)
        {
            Assert.Contains($"no usable OpenCL device: '{firstName}'", e.Message);
            Assert.Contains("generic address space that ILGPU 1.5.3's OpenCL backend requires", e.Message);
        }
        else
        {
            Assert.Contains("no OpenCL device", e.Message);
        }
    }

    [Fact]
    public void EnvironmentVariable_SelectsTheDevice()
    {
        var previous = Environment.GetEnvironmentVariable(ComputeDevice.EnvironmentVariable);
        try
        {
            Environment.SetEnvironmentVariable(ComputeDevice.EnvironmentVariable, "cpu");
            using (var device = ComputeDevice.FromEnvironment())
            {
                Assert.Equal(DeviceKind.Cpu, device.Kind);
                Assert.Contains("KERNELGEN_DEVICE=cpu", device.Reason);
            }

            Environment.SetEnvironmentVariable(ComputeDevice.EnvironmentVariable, "quantum");
            var e = Assert.Throws<ArgumentException>(() => ComputeDevice.FromEnvironment());
            Assert.Contains("KERNELGEN_DEVICE = 'quantum' is not a device", e.Message);

            Environment.SetEnvironmentVariable(ComputeDevice.EnvironmentVariable, null);
            using var auto = ComputeDevice.FromEnvironment();
            Assert.NotEqual(DeviceKind.Auto, auto.Kind);
            Assert.Contains("auto", auto.Reason);
        }
        finally
        {
            Environment.SetEnvironmentVariable(ComputeDevice.EnvironmentVariable, previous);
        }
    }

    [Fact]
    public void Kernels_AreCompiledOncePerDeviceAndScheme()
    {
        var first = fixture.Cpu.GetKernels<B4G128A>();
        Assert.Same(first, fixture.Cpu.GetKernels<B4G128A>());
        Assert.NotSame(first, fixture.Cpu.GetKernels<B4G128S>());
        Assert.Equal(B4G128A.Info, first.Scheme);
    }
}
