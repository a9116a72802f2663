using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Text.Json;
using System.Threading.Tasks;
using ILGPU;
using ILGPU.Runtime;
using KernelGen.Backends;
using KernelGen.Layers;
using KernelGen.Quantization;
using KernelGen.Tensors;

namespace KernelGen.Cli.Bench;

/// <summary>One benchmark case's outcome.</summary>
internal sealed record BenchResult(
    string Scheme, int N, int K, int M, double Microseconds, double Bytes, double GigabytesPerSecond,
    double PercentOfCopy, double TeraFlops, double RelativeError, int RowsChecked, string Kernel = "", double ReadFloorMicroseconds = 0,
    double? RoundedActivationsError = null, double Tolerance = 1e-4);

/// <summary>
/// <c>kernelgen bench</c>: for each scheme, shape and M, checks the device result against a float64 CPU reference
/// (sampled rows), then times the layer with device events (profiling markers) after warm-up, rotating among copies
/// of the weights so that they are read from memory, not from L2, each timed launch queued behind a short spin kernel
/// so that the events bracket the kernel and not the host's launch latency (<see cref="TimedStart"/>). Reports µs, GB/s over all bytes moved, % of the
/// device-copy ceiling measured in the same run, the time of a kernel that only reads the case's bytes (timed the same
/// way: the floor at this size, <see cref="ReadFloor"/>), TFLOP/s.
/// </summary>
internal static class BenchRunner
{
    /// <summary>Weights are copied until the copies exceed this, 2.5× the H100's 50 MB L2.</summary>
    private const long RotationBytes = 128L << 20;

    /// <summary>Bytes cleared before each timed launch with <see cref="TimedStart.Flush"/>: triton's do_bench clears 256 MiB.</summary>
    private const long FlushBytes = 256L << 20;

    /// <summary>Dependent multiply-adds of the spin kernel (<see cref="TimedStart.Spin"/>): tens of µs on a GPU, longer
    /// than a launch takes on the host.</summary>
    private const int SpinSteps = 8192;

    public static int Run(BenchOptions options)
    {
        using var device = ComputeDevice.Create(ComputeDevice.ParseKind(options.Device, "--device"), enableProfiling: true);
        Console.WriteLine($"device  {device}");
        double copyGbs = MeasureCopyCeiling(device);
        Console.WriteLine(FormattableString.Invariant($"copy ceiling  {copyGbs:F0} GB/s (1 GiB device-to-device, read + write, median of 10)"));
        using var before = new BeforeStart(device.Accelerator, options.Start);
        Console.WriteLine($"timing  {before.Description}");
        using var floor = new ReadFloor(device.Accelerator, before);
        double emptyUs = floor.EmptyLaunchMicroseconds(options.Warmup, options.Repetitions);
        Console.WriteLine(FormattableString.Invariant($"empty launch  {emptyUs:F1} µs (one group that does nothing, timed as every case)"));

        var results = new List<BenchResult>();
        foreach (var scheme in options.Schemes)
        {
            foreach (var (n, k) in options.Shapes)
            {
                results.AddRange(SchemeRegistry.Visit(scheme, new CaseVisitor(device, options, n, k, copyGbs, before, floor)));
            }
        }

        if (CacheCommand.Summary() is { } cacheLine)
        {
            Console.WriteLine(cacheLine);
        }

        Console.WriteLine();
        Console.WriteLine($"{"scheme",-8} {"N×K",-12} {"M",5} {"µs",10} {"GB/s",7} {"%copy",6} {"read µs",8} {"÷read",6} {"TFLOP/s",8} {"rel.err",9}");
        foreach (var r in results)
        {
            Console.WriteLine(FormattableString.Invariant(
                $"{r.Scheme,-8} {$"{r.N}x{r.K}",-12} {r.M,5} {r.Microseconds,10:F1} {r.GigabytesPerSecond,7:F0} {r.PercentOfCopy,6:F1} {r.ReadFloorMicroseconds,8:F1} {r.Microseconds / r.ReadFloorMicroseconds,6:F2} {r.TeraFlops,8:F2} {r.RelativeError,9:E1}"));
        }

        if (options.JsonPath is not null)
        {
            var report = new
            {
                device = device.Name,
                kind = device.Kind.ToString(),
                copyCeilingGigabytesPerSecond = copyGbs,
                emptyLaunchMicroseconds = emptyUs,
                timing = before.Description,
                date = DateTime.UtcNow.ToString("yyyy-MM-dd'T'HH:mm'Z'", CultureInfo.InvariantCulture),
                results,
            };
            BenchJson.Write(options.JsonPath, report);
        }

        // Tensor cores read x rounded to f16 (2^-11 relative per activation): their own tolerance. The int8-activation
        // GEMV is checked against float64 over x rounded as it documents (its rel.err over x itself is the rounding's cost).
        bool allCorrect = results.All(r => (r.RoundedActivationsError ?? r.RelativeError) < r.Tolerance);
        if (!allCorrect)
        {
            Console.Error.WriteLine("FAILED: some cases disagree with the float64 reference (rel.err ≥ 1e-4, or ≥ 2e-3 on tensor cores; int8-x: ≥ 1e-4 against x rounded to int8).");
        }

        return allCorrect ? 0 : 1;
    }

    private static double MeasureCopyCeiling(ComputeDevice device)
    {
        const long count = 1L << 28; // 256 Mi floats = 1 GiB
        var accelerator = device.Accelerator;
        using var source = accelerator.Allocate1D<float>(count);
        using var destination = accelerator.Allocate1D<float>(count);
        source.MemSet(0x3C);
        double ms = MedianMilliseconds(accelerator, null, 3, 10, _ => source.View.CopyTo(destination.View));
        return 2.0 * count * sizeof(float) / (ms * 1e-3) / 1e9;
    }

    /// <summary>The median of <paramref name="repetitions"/> launches timed by <see cref="Time"/>, after
    /// <paramref name="warmup"/> untimed ones; launch i of each series is <paramref name="launch"/>(i).</summary>
    internal static double MedianMilliseconds(Accelerator accelerator, BeforeStart? before, int warmup, int repetitions, Action<int> launch)
    {
        for (int i = 0; i < warmup; i++)
        {
            launch(i);
        }

        var times = new List<double>();
        for (int i = 0; i < repetitions; i++)
        {
            int at = i;
            times.Add(Time(accelerator, () => launch(at), before));
        }

        return Median(times);
    }

    /// <summary>Milliseconds between two device events around <paramref name="launch"/>, after <paramref name="before"/>
    /// has queued its work (if any) on the same stream.</summary>
    internal static double Time(Accelerator accelerator, Action launch, BeforeStart? before = null)
    {
        var stream = accelerator.DefaultStream;
        before?.Queue();
        using var start = stream.AddProfilingMarker();
        launch();
        using var end = stream.AddProfilingMarker();
        end.Synchronize();
        return end.MeasureFrom(start).TotalMilliseconds;
    }

    internal static double Median(List<double> values)
    {
        var sorted = values.OrderBy(v => v).ToArray();
        return sorted.Length % 2 == 1 ? sorted[sorted.Length / 2] : (sorted[(sorted.Length / 2) - 1] + sorted[sorted.Length / 2]) / 2;
    }

    private sealed class CaseVisitor : SchemeRegistry.IVisitor<List<BenchResult>>
    {
        private readonly ComputeDevice device;
        private readonly BenchOptions options;
        private readonly int n;
        private readonly int k;
        private readonly double copyGbs;
        private readonly BeforeStart before;
        private readonly ReadFloor floor;

        public CaseVisitor(ComputeDevice device, BenchOptions options, int n, int k, double copyGbs, BeforeStart before, ReadFloor floor)
        {
            this.before = before;
            this.floor = floor;
            this.device = device;
            this.options = options;
            this.n = n;
            this.k = k;
            this.copyGbs = copyGbs;
        }

        public List<BenchResult> Visit<TScheme>()
            where TScheme : struct, IQuantScheme
        {
            var results = new List<BenchResult>();
            var random = new Random(HashCode.Combine(n, k, TScheme.Info.Name.Length, 1125));
            var matrix = RandomMatrix<TScheme>(random, n, k);
            int copies = (int)Math.Clamp((RotationBytes + matrix.ByteCount - 1) / matrix.ByteCount, 1, 16);
            var layers = new List<QuantLinear<TScheme>>();
            try
            {
                for (int c = 0; c < copies; c++)
                {
                    layers.Add(new QuantLinear<TScheme>(device, matrix) { QuantizeActivations = options.QuantizeActivations });
                }

                foreach (int m in options.BatchSizes)
                {
                    double flop = 2.0 * m * n * k;
                    if (flop > options.MaxTeraFlop * 1e12)
                    {
                        Console.WriteLine(FormattableString.Invariant($"skip {TScheme.Info.Name} {n}x{k} M={m}: {flop / 1e12:F0} TFLOP exceeds --max-tflop"));
                        continue;
                    }

                    results.Add(RunCase(matrix, layers, random, m));
                    if (options.CompareTiled && layers[0].KernelFor(m) is MatrixKernel.TensorCoreGemv or MatrixKernel.TensorCoreGemm)
                    {
                        layers.ForEach(l => l.UseTensorCores = false);
                        results.Add(RunCase(matrix, layers, random, m));
                        layers.ForEach(l => l.UseTensorCores = true);
                    }
                }
            }
            finally
            {
                foreach (var layer in layers)
                {
                    layer.Dispose();
                }
            }

            return results;
        }

        private BenchResult RunCase<TScheme>(QuantizedMatrix<TScheme> matrix, List<QuantLinear<TScheme>> layers, Random random, int m)
            where TScheme : struct, IQuantScheme
        {
            var x = new float[(long)m * k];
            for (int i = 0; i < x.Length; i++)
            {
                x[i] = (float)((random.NextDouble() * 2) - 1);
            }

            using var input = DeviceTensor.FromHost(device, x, m, k);
            using var output = DeviceTensor.Allocate(device, m, n);
            output.Buffer.MemSet(0xFF); // NaN: every element must be written

            // Correct first: sampled rows and batch rows against float64 on the CPU.
            layers[0].Forward(input, output);
            var y = output.ToHost();
            var (error, checkedRows) = SampledError(matrix, x, y, m);
            double? roundedError = layers[0].KernelFor(m) == MatrixKernel.Int8ActivationGemv ? SampledError(matrix, RoundActivations(x, m, k), y, m).Error : null;

            // Every copy warms up at least once: a copy's first batch of 2–16 rows repacks its weights (host work that
            // must not land inside a timed launch).
            double ms = MedianMilliseconds(device.Accelerator, before, Math.Max(options.Warmup, layers.Count), options.Repetitions, i => layers[i % layers.Count].Forward(input, output));
            double bytes = matrix.ByteCount + (4.0 * m * k) + (4.0 * m * n);
            double gbs = bytes / (ms * 1e-3) / 1e9;
            var matrixKernel = layers[0].KernelFor(m);
            string kernel = matrixKernel switch
            {
                MatrixKernel.Gemv => "gemv",
                MatrixKernel.TensorCoreGemv => "tensor-core gemv",
                MatrixKernel.TensorCoreGemm => "tensor-core gemm",
                MatrixKernel.Int8ActivationGemv => "int8-x tensor-core gemv",
                _ => "tiled gemm",
            };
            double readUs = floor.ReadMicroseconds(bytes, options.Warmup, options.Repetitions);
            var result = new BenchResult(
                TScheme.Info.Name, n, k, m, ms * 1e3, bytes, gbs, 100 * gbs / copyGbs, 2.0 * m * n * k / (ms * 1e-3) / 1e12, error, checkedRows, kernel, readUs, roundedError, Float64Rows.Tolerance(matrixKernel));
            Console.WriteLine(FormattableString.Invariant(
                $"{result.Scheme} {n}x{k} M={m} [{kernel}]: {result.Microseconds:F1} µs, {gbs:F0} GB/s ({result.PercentOfCopy:F1}% of copy; reading its bytes alone: {readUs:F1} µs), {result.TeraFlops:F2} TFLOP/s, rel.err {error:E1}{(roundedError is double r ? FormattableString.Invariant($" (against x rounded to int8: {r:E1})") : string.Empty)}"));
            return result;
        }

        /// <summary>x rounded as <see cref="Int8ActivationGemv.RoundActivations"/> does, each row on its own (the kernel's
        /// own rounding is checked against an independent one in the tests).</summary>
        private static float[] RoundActivations(float[] x, int m, int k)
        {
            var rounded = (float[])x.Clone();
            for (int row = 0; row < m; row++)
            {
                Int8ActivationGemv.RoundActivations(rounded.AsSpan(row * k, k));
            }

            return rounded;
        }

        /// <summary>Random codes, scales in [0.002, 0.02] and zero points: every bit pattern is a valid matrix.</summary>
        private static QuantizedMatrix<TScheme> RandomMatrix<TScheme>(Random random, int rows, int cols)
            where TScheme : struct, IQuantScheme
        {
            var dims = QuantDims.Create(TScheme.Info, rows, cols);
            var packed = new uint[dims.PackedWords];
            int seed = random.Next();
            Parallel.For(0, rows, row =>
            {
                var local = new Random(seed + row);
                long words = dims.PackedWords / rows;
                for (long i = row * words; i < (row + 1) * words; i++)
                {
                    packed[i] = (uint)local.NextInt64(0, 1L << 32);
                }
            });
            var scales = new ushort[dims.ScaleCount];
            for (int i = 0; i < scales.Length; i++)
            {
                scales[i] = BitConverter.HalfToUInt16Bits((System.Half)(0.002 + (0.018 * random.NextDouble())));
            }

            var zeros = TScheme.Info.Symmetric ? Array.Empty<uint>() : new uint[dims.ZeroWords];
            for (int i = 0; i < zeros.Length; i++)
            {
                zeros[i] = (uint)random.NextInt64(0, 1L << 32);
            }

            return QuantizedMatrix<TScheme>.FromPacked(rows, cols, packed, scales, zeros);
        }

        /// <summary>‖y − y_ref‖ / ‖y_ref‖ over up to 64 output columns × 4 batch rows, in float64.</summary>
        /// <summary>KERNELGEN_BENCH_TRACE=1 prints each checked output of the block's first rows beside its float64 reference
        /// (how the batch kernel's unsigned conversion was found: perf/gemv.md, session 27).</summary>
        private static readonly bool Trace = Environment.GetEnvironmentVariable("KERNELGEN_BENCH_TRACE") == "1";

        private (double Error, int Rows) SampledError<TScheme>(QuantizedMatrix<TScheme> matrix, float[] x, float[] y, int m)
            where TScheme : struct, IQuantScheme
        {
            var columns = Float64Rows.Sample(n);
            var batchRows = new[] { 0, m / 2, m - 1 }.Distinct().ToArray();
            double diff = 0, norm = 0;
            foreach (int col in columns)
            {
                var w = Float64Rows.Dequantize(matrix, col);
                foreach (int row in batchRows)
                {
                    double expected = 0;
                    for (int i = 0; i < k; i++)
                    {
                        expected += w[i] * x[((long)row * k) + i];
                    }

                    double actual = y[((long)row * n) + col];
                    if (Trace && col < 40)
                    {
                        Console.WriteLine(FormattableString.Invariant($"trace row {row} col {col}: {actual} expected {expected}"));
                    }

                    diff += (actual - expected) * (actual - expected);
                    norm += expected * expected;
                }
            }

            double error = double.IsFinite(diff) ? Math.Sqrt(diff / norm) : double.PositiveInfinity;
            return (error, columns.Length * batchRows.Length);
        }
    }

    /// <summary>The work queued before each timed launch's start event (<see cref="TimedStart"/>).</summary>
    internal sealed class BeforeStart : IDisposable
    {
        private readonly TimedStart start;
        private readonly MemoryBuffer1D<float, Stride1D.Dense>? buffer;
        private readonly Action<Index1D, ArrayView<float>, int>? spin;

        public BeforeStart(Accelerator accelerator, TimedStart start)
        {
            this.start = start;
            if (start == TimedStart.Flush)
            {
                buffer = accelerator.Allocate1D<float>(FlushBytes / sizeof(float));
            }
            else if (start == TimedStart.Spin)
            {
                buffer = accelerator.Allocate1D<float>(1);
                buffer.MemSetToZero();
                spin = accelerator.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, int>(SpinKernel);
                spin(1, buffer.View, SpinSteps); // compiled here, not inside a timed launch
                accelerator.Synchronize();
            }
        }

        public string Description => start switch
        {
            TimedStart.Spin => "each launch queued behind a one-thread spin kernel (host launch latency hidden, L2 untouched; weights rotate)",
            TimedStart.Flush => "each launch queued behind a 256 MiB clear (L2 flushed, host launch latency hidden), as triton's do_bench",
            _ => "from an idle device (host launch latency included)",
        };

        public void Queue()
        {
            if (start == TimedStart.Flush)
            {
                buffer!.View.MemSetToZero();
            }
            else if (start == TimedStart.Spin)
            {
                spin!(1, buffer!.View, SpinSteps);
            }
        }

        public void Dispose() => buffer?.Dispose();

        /// <summary>One thread's chain of dependent multiply-adds, stored so that it is not removed.</summary>
        private static void SpinKernel(Index1D index, ArrayView<float> sink, int steps)
        {
            float v = sink[0] + index;
            for (int i = 0; i < steps; i++)
            {
                v = (v * 0.999f) + 0.001f;
            }

            sink[0] = v;
        }
    }
}
