using System;
using System.Linq;
using System.Numerics;
using ILGPU;
using ILGPU.Runtime.CPU;
using KernelGen.Cli.Bench;
using Xunit;

namespace KernelGen.Tests;

/// <summary>
/// The bench's read floor (<see cref="ReadFloor"/>) is only a floor if its kernel reads every byte of the window it is
/// given and nothing else: the same kernel, run on ILGPU's CPU accelerator storing each thread's sum, against the window's
/// sum computed here.
/// </summary>
public sealed class ReadFloorTests
{
    [Theory]
    [InlineData(1234, 5001)] // more quads than threads, not a multiple of them or of the four loads in flight
    [InlineData(7, 3)] // fewer quads than threads
    [InlineData(0, 9999)] // the buffer's first quad to one before its last
    public void ReadKernel_SumsExactlyItsWindow(long start, long count)
    {
        var random = new Random(HashCode.Combine(start, count, 1128));
        var data = new Vector4[10_000];
        for (int i = 0; i < data.Length; i++)
        {
            // Small integers inside the window (float sums stay exact); outside it, values that any stray read would show.
            bool inside = i >= start && i < start + count;
            data[i] = inside
                ? new Vector4(random.Next(1, 9), random.Next(1, 9), random.Next(1, 9), random.Next(1, 9))
                : new Vector4(1 << 20);
        }

        double expected = 0;
        for (long i = start; i < start + count; i++)
        {
            expected += data[i].X + data[i].Y + data[i].Z + data[i].W;
        }

        using var context = Context.Create(builder => builder.CPU());
        using var accelerator = context.CreateCPUAccelerator(0);
        var sums = ReadFloor.ThreadSums(accelerator, data, start, count);

        Assert.True(sums.Length >= 32, $"{sums.Length} threads");
        Assert.Equal(expected, sums.Sum(s => (double)s));
    }
}
