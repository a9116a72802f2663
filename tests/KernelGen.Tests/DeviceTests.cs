using System;
using ILGPU;
using ILGPU.Runtime;
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
            Assert.Contains("no Cuda device was found (devices present: ", e.Message);
            Assert.Contains("CPU 'CPUAccelerator'", e.Message);
            Assert.Contains("Use cpu, or auto", e.Message);
        }
    }

    /// <summary>
    /// Independently of KernelGen, ask ILGPU for every OpenCL device: where there is one, opencl must open it whether or
    /// not it has the generic address space (Debian 12's PoCL, which CI installs, has not), and say which; with no loader
    /// or platform, the error must say what to install. (The kernel tests run every kernel on that device.)
    /// </summary>
    [Fact]
    public void OpenCl_OpensEveryListedDevice_OrSaysWhatToInstall()
    {
        bool? firstHasGeneric = null;
        try
        {
            using var context = ILGPU.Context.Create(b => b.OpenCL(_ => true));
            var devices = context.GetCLDevices();
            if (devices.Count > 0)
            {
                firstHasGeneric = devices[0].Capabilities.GenericAddressSpace;
            }
        }
        catch (DllNotFoundException)
        {
            // no loader at all: handled like zero devices below
        }

        if (firstHasGeneric is bool generic)
        {
            using var device = ComputeDevice.Create(DeviceKind.OpenCL);
            Assert.Equal(DeviceKind.OpenCL, device.Kind);
            Assert.Equal(GemvReduction.SharedMemory, device.Reduction);
            Assert.Equal(!generic, device.WithoutGenericAddressSpace);
            Assert.Equal(!generic, device.Reason.Contains("no generic address space", StringComparison.Ordinal));
            return;
        }

        var e = Assert.Throws<InvalidOperationException>(() => ComputeDevice.Create(DeviceKind.OpenCL));
        Assert.Contains("no OpenCL device", e.Message);
        Assert.Contains("Use cpu or cuda", e.Message);
    }

    /// <summary>
    /// A kernel whose pointer is shared memory on some threads and global memory on others cannot be typed without the
    /// generic address space. On an OpenCL device that lacks it, loading such a kernel must fail with a message that
    /// names the device and the way out; on one that has it, the kernel must run and compute what it says.
    /// </summary>
    [Fact]
    public void OpenCl_AKernelThatNeedsTheGenericAddressSpace_RunsOrFailsNamingTheDeviceAndTheWayOut()
    {
        var device = fixture.Devices.Find(d => d.Kind == DeviceKind.OpenCL);
        if (device is null)
        {
            Assert.NotNull(fixture.OpenClAbsence); // no OpenCL here: the test above checks the message
            return;
        }

        if (device.WithoutGenericAddressSpace)
        {
            var e = Assert.Throws<NotSupportedException>(() => device.LoadChecked(() => device.Accelerator.LoadStreamKernel<ArrayView<float>, ArrayView<float>>(MixedPointerKernel), "the mixed-pointer test kernel"));
            Assert.StartsWith($"OpenCL device '{device.Name}' could not build the mixed-pointer test kernel (OpenCL error CL_BUILD_PROGRAM_FAILURE)", e.Message);
            Assert.Contains("generic address space this device lacks", e.Message);
            Assert.EndsWith("Use cpu or cuda.", e.Message);
            return;
        }

        var kernel = device.LoadChecked(() => device.Accelerator.LoadStreamKernel<ArrayView<float>, ArrayView<float>>(MixedPointerKernel), "the mixed-pointer test kernel");
        var input = new float[128];
        for (int i = 0; i < input.Length; i++)
        {
            input[i] = i + 1;
        }

        using var a = device.Accelerator.Allocate1D<float>(input);
        using var b = device.Accelerator.Allocate1D<float>(128);
        kernel(new KernelConfig(2, 64), a.View, b.View);
        var output = b.GetAsArray1D();
        for (int i = 0; i < 128; i++)
        {
            int next = (i % 64) + 1 == 64 ? 0 : (i % 64) + 1;
            float expected = i % 3 == 0 ? 2 * input[(i / 64 * 64) + next] : 2 * input[next];
            Assert.Equal(expected, output[i]);
        }
    }

    /// <summary>b[i] = 2 · v[next lane], v being the group's shared copy of a on every third thread and a's first 64
    /// values on the others.</summary>
    private static void MixedPointerKernel(ArrayView<float> a, ArrayView<float> b)
    {
        int i = Grid.GlobalIndex.X;
        var shared = SharedMemory.Allocate<float>(64);
        shared[Group.IdxX] = a[i];
        Group.Barrier();
        var v = i % 3 == 0 ? shared : a.SubView(0, 64);
        b[i] = v[(Group.IdxX + 1) % Group.DimX] * 2f;
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

            // Auto's order: CUDA, an OpenCL GPU, any OpenCL device (a CPU driver such as PoCL), the CPU accelerator.
            using var context = ILGPU.Context.Create(b => b.Cuda().OpenCL(_ => true));
            var expected = context.GetCudaDevices().Count > 0 ? DeviceKind.Cuda : context.GetCLDevices().Count > 0 ? DeviceKind.OpenCL : DeviceKind.Cpu;
            Assert.Equal(expected, auto.Kind);
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
