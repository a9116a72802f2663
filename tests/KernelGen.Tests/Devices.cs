using System;
using System.Collections.Generic;
using KernelGen.Backends;
using Xunit;

namespace KernelGen.Tests;

/// <summary>
/// The devices kernel tests run on: ILGPU's CPU accelerator always, and an OpenCL device where one is present and
/// usable. Opened once for the whole test run; kernels are compiled once per device and scheme.
/// </summary>
public sealed class DeviceFixture : IDisposable
{
    public DeviceFixture()
    {
        Devices.Add(ComputeDevice.Create(DeviceKind.Cpu));
        try
        {
            Devices.Add(ComputeDevice.Create(DeviceKind.OpenCL));
        }
        catch (InvalidOperationException e)
        {
            OpenClAbsence = e.Message; // no OpenCL device on this machine: the CPU accelerator covers the kernels
        }
    }

    public List<ComputeDevice> Devices { get; } = new();

    public ComputeDevice Cpu => Devices[0];

    public string? OpenClAbsence { get; }

    public void Dispose()
    {
        foreach (var device in Devices)
        {
            device.Dispose();
        }
    }
}

/// <summary>
/// The classes that run kernels on <see cref="DeviceFixture"/>'s devices, one after another. The collection runs alone,
/// after the parallel ones: ILGPU's CPU accelerator runs every thread of a group as an OS thread that meets the others at
/// each barrier, so beside another test's busy threads on this 2-core CI machine its tests ran 2–7× their time alone
/// (Stories260KTests 26 s alone, 194 s in parallel).
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class DeviceCollection : ICollectionFixture<DeviceFixture>
{
    public const string Name = "devices";
}

/// <summary>
/// Test classes whose kernels run on a <see cref="Cpu32Accelerator"/> of many warps (hundreds of OS threads that meet at
/// every warp barrier of the emulated mma): run alone, after the parallel collections, for the reason
/// <see cref="DeviceCollection"/> gives (TensorCoreGemvTests 216 s alone, 616 s in parallel, before the emulated mma
/// exchanged its operands through shared memory; 18 s alone since).
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class ManyThreadsCollection
{
    public const string Name = "many threads";
}
