using System;
using System.Numerics;
using ILGPU;
using ILGPU.Runtime;

namespace KernelGen.Cli.Bench;

/// <summary>
/// The floors of one case's size, timed exactly as the case is (same start, device events, median): a launch that
/// does nothing, and a kernel that only reads as many bytes as the case moves. The 1 GiB copy ceiling says what the
/// memory sustains; these say what a kernel of this size can take at best, launch, first-load latency and last
/// wave included, which is what a GEMV of a few MB is bound by.
/// </summary>
internal sealed class ReadFloor : IDisposable
{
    /// <summary>The windows read rotate through at least this much memory, and through twice a window plus 64 MiB (more
    /// than the H100's 50 MB L2) where a case is larger, so that no window starts on lines the previous one left in L2.</summary>
    private const long PoolBytes = 512L << 20;

    /// <summary>Quads the pool holds beyond two windows: 64 MiB.</summary>
    private const long SpareQuads = (64L << 20) / 16;

    private readonly Accelerator accelerator;
    private readonly BenchRunner.BeforeStart before;
    private MemoryBuffer1D<Vector4, Stride1D.Dense> pool;
    private readonly MemoryBuffer1D<float, Stride1D.Dense> sink;
    private readonly Action<KernelConfig, ArrayView<Vector4>, ArrayView<float>, long, long, int> read;
    private readonly KernelConfig config;
    private long next;

    public ReadFloor(Accelerator accelerator, BenchRunner.BeforeStart before)
    {
        this.accelerator = accelerator;
        this.before = before;
        pool = Allocate(PoolBytes / 16);
        sink = accelerator.Allocate1D<float>(1);
        read = accelerator.LoadStreamKernel<ArrayView<Vector4>, ArrayView<float>, long, long, int>(ReadKernel);
        config = Config(accelerator);
        read(config, pool.View, sink.View, 0, 1, 0); // compiled here, not inside a timed launch
        accelerator.Synchronize();
    }

    /// <summary>Median µs of an empty launch of one group: what any kernel pays between the two events.</summary>
    public double EmptyLaunchMicroseconds(int warmup, int repetitions) =>
        Measure(warmup, repetitions, () => read(new KernelConfig(1, 32), pool.View, sink.View, 0, 0, 0));

    /// <summary>Median µs of a kernel that reads <paramref name="bytes"/> (rounded up to 16) from memory, not L2.</summary>
    public double ReadMicroseconds(double bytes, int warmup, int repetitions)
    {
        long quads = (long)Math.Ceiling(bytes / 16);
        if ((2 * quads) + SpareQuads > pool.Length)
        {
            pool.Dispose();
            pool = Allocate((2 * quads) + SpareQuads);
            next = 0;
        }

        return Measure(warmup, repetitions, () =>
        {
            if (next + quads > pool.Length)
            {
                next = 0;
            }

            read(config, pool.View, sink.View, next, quads, 0);
            next += quads;
        });
    }

    /// <summary>What each thread of the timed launch's grid sums over quads [<paramref name="start"/>,
    /// <paramref name="start"/> + <paramref name="count"/>) of <paramref name="data"/>, all four floats of each: the
    /// same kernel, storing every thread's sum instead of none, so that a test can check it reads that window whole and
    /// nothing else.</summary>
    internal static float[] ThreadSums(Accelerator accelerator, Vector4[] data, long start, long count)
    {
        var config = Config(accelerator);
        using var source = accelerator.Allocate1D(data);
        using var sums = accelerator.Allocate1D<float>((long)config.GridDim.X * config.GroupDim.X);
        var kernel = accelerator.LoadStreamKernel<ArrayView<Vector4>, ArrayView<float>, long, long, int>(ReadKernel);
        kernel(config, source.View, sums.View, start, count, 1);
        return sums.GetAsArray1D();
    }

    public void Dispose()
    {
        pool.Dispose();
        sink.Dispose();
    }

    /// <summary>Four groups of up to 512 threads per SM.</summary>
    private static KernelConfig Config(Accelerator accelerator) =>
        new(Math.Max(1, accelerator.NumMultiprocessors) * 4, Math.Min(512, accelerator.MaxNumThreadsPerGroup));

    private MemoryBuffer1D<Vector4, Stride1D.Dense> Allocate(long quads)
    {
        var buffer = accelerator.Allocate1D<Vector4>(quads);
        buffer.MemSet(0x5A); // not zeros: the data must be the kind a kernel really reads
        return buffer;
    }

    private double Measure(int warmup, int repetitions, Action launch) =>
        BenchRunner.MedianMilliseconds(accelerator, before, warmup, repetitions, _ => launch()) * 1e3;

    /// <summary>Grid-stride reads of 16 bytes (ILGPU emits <c>ld.v4.f32</c>), four in flight per thread. Timed, it stores
    /// nothing (one store behind a test no real data passes keeps the loads from being removed); with
    /// <paramref name="record"/> each thread stores its sum (<see cref="ThreadSums"/>).</summary>
    private static void ReadKernel(ArrayView<Vector4> data, ArrayView<float> sink, long start, long count, int record)
    {
        long stride = (long)Grid.DimX * Group.DimX;
        long i = start + Grid.GlobalIndex.X;
        long end = start + count;
        float acc = 0;
        for (; i + (3 * stride) < end; i += 4 * stride)
        {
            var a = data[i];
            var b = data[i + stride];
            var c = data[i + (2 * stride)];
            var d = data[i + (3 * stride)];
            acc += a.X + a.Y + a.Z + a.W + b.X + b.Y + b.Z + b.W + c.X + c.Y + c.Z + c.W + d.X + d.Y + d.Z + d.W;
        }

        for (; i < end; i += stride)
        {
            var a = data[i];
            acc += a.X + a.Y + a.Z + a.W;
        }

        if (record != 0)
        {
            sink[Grid.GlobalIndex.X] = acc;
        }
        else if (acc == 1.2345f)
        {
            sink[0] = acc;
        }
    }
}
