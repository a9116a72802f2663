using System;
using ILGPU;
using ILGPU.Runtime;
using KernelGen.Backends;

namespace KernelGen.Tensors;

/// <summary>A row-major rows × cols float32 matrix in a device's memory.</summary>
public sealed class DeviceTensor : IDisposable
{
    private DeviceTensor(ComputeDevice device, int rows, int cols)
    {
        if (rows <= 0 || cols <= 0)
        {
            throw new ArgumentException(FormattableString.Invariant($"A tensor of shape [{rows} × {cols}] is empty: both dimensions must be positive."));
        }

        Device = device;
        Rows = rows;
        Cols = cols;
        Buffer = device.Accelerator.Allocate1D<float>((long)rows * cols);
    }

    /// <summary>The device that holds the data.</summary>
    public ComputeDevice Device { get; }

    /// <summary>Rows (M).</summary>
    public int Rows { get; }

    /// <summary>Columns.</summary>
    public int Cols { get; }

    /// <summary>The device buffer, rows · cols floats.</summary>
    public MemoryBuffer1D<float, Stride1D.Dense> Buffer { get; }

    /// <summary>The buffer as a kernel argument.</summary>
    public ArrayView<float> View => Buffer.View;

    /// <summary>"[rows × cols]".</summary>
    public string Shape => FormattableString.Invariant($"[{Rows} × {Cols}]");

    /// <summary>Allocates an uninitialized tensor.</summary>
    public static DeviceTensor Allocate(ComputeDevice device, int rows, int cols)
    {
        ArgumentNullException.ThrowIfNull(device);
        return new DeviceTensor(device, rows, cols);
    }

    /// <summary>Copies row-major host data to a new device tensor.</summary>
    public static DeviceTensor FromHost(ComputeDevice device, ReadOnlySpan<float> data, int rows, int cols)
    {
        ArgumentNullException.ThrowIfNull(device);
        if (data.Length != (long)rows * cols)
        {
            throw new ArgumentException(FormattableString.Invariant(
                $"{data.Length} values do not fill a [{rows} × {cols}] tensor ({(long)rows * cols} values)."), nameof(data));
        }

        var tensor = new DeviceTensor(device, rows, cols);
        tensor.Buffer.View.AsContiguous().CopyFromCPU(data);
        return tensor;
    }

    /// <summary>Copies the data back to the host.</summary>
    public float[] ToHost()
    {
        var result = new float[Buffer.Length];
        Buffer.View.AsContiguous().CopyToCPU(result);
        return result;
    }

    /// <inheritdoc />
    public void Dispose() => Buffer.Dispose();
}
