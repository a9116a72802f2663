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

[CollectionDefinition(Name)]
public sealed class DeviceCollection : ICollectionFixture<DeviceFixture>
{
    public const string Name = "devices";
}
