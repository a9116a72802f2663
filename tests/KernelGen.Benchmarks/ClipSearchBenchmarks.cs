using System;
using System.Numerics;
using System.Runtime.InteropServices;
using BenchmarkDotNet.Attributes;
using KernelGen.Quantization;

namespace KernelGen.Benchmarks;

/// <summary>4-bit asymmetric g32 weights (the MiniLM test's scheme).</summary>
[QuantScheme(Bits = 4, GroupSize = 32, Symmetric = false)]
public partial struct Q4G32;

/// <summary>
/// AWQ's output-aware clip search (<see cref="ClipSearch"/> with sample inputs) on one MiniLM-shaped projection,
/// 1536 × 384 in q4g32, 512 sample rows (AWQ's <see cref="Awq.ClipRows"/>); AWQ runs it once per α candidate and layer.
/// The baseline is the search as it was before its vector path: entry-by-entry Gram matrices, each candidate's codes
/// through <see cref="GroupQuantizer.Code"/> and dᵀ·M·d as one dot product per row of M. Both choose the same codes.
/// Random weights and uneven channel magnitudes, fixed seed.
/// </summary>
[MemoryDiagnoser]
public class ClipSearchBenchmarks
{
    private const int Rows = 1536, Cols = 384, Count = 512;
    private float[] weights = null!;
    private float[] sample = null!;

    [GlobalSetup]
    public void Setup()
    {
        var random = new Random(42);
        weights = new float[Rows * Cols];
        for (int i = 0; i < weights.Length; i++)
        {
            weights[i] = (float)((random.NextDouble() * 2) - 1) * 0.05f;
        }

        sample = new float[Count * Cols];
        for (int i = 0; i < sample.Length; i++)
        {
            sample[i] = (float)((random.NextDouble() * 2) - 1) * (1 + (i % Cols % 7));
        }
    }

    [Benchmark(Baseline = true, Description = "scalar search (before)")]
    public byte Scalar() => ScalarSearch(weights, sample)[7];

    [Benchmark(Description = "ClipSearch.Quantize")]
    public uint Vectorized() => ClipSearch.Quantize<Q4G32>(weights, Rows, Cols, sample, Count).Packed[7];

    /// <summary>The search's codes as the scalar version chose them (scales and zero points left out: the codes
    /// follow from them).</summary>
    private static byte[] ScalarSearch(float[] w, float[] x)
    {
        const int group = 32, steps = 20, groups = Cols / group;
        var quantizer = new GroupQuantizer(Q4G32.Info);
        var gram = new double[groups][];
        for (int g = 0; g < groups; g++)
        {
            var m = new double[group * group];
            for (int n = 0; n < Count; n++)
            {
                for (int i = 0; i < group; i++)
                {
                    for (int j = 0; j <= i; j++)
                    {
                        m[(i * group) + j] += x[(n * Cols) + (g * group) + i] * (double)x[(n * Cols) + (g * group) + j];
                    }
                }
            }

            for (int i = 0; i < group; i++)
            {
                for (int j = 0; j < i; j++)
                {
                    m[(j * group) + i] = m[(i * group) + j];
                }
            }

            gram[g] = m;
        }

        var codes = new byte[Rows * Cols];
        System.Threading.Tasks.Parallel.For(0, Rows, r =>
        {
            double[] values = new double[group], shrunk = new double[group], error = new double[group];
            var trial = new byte[group];
            for (int g = 0; g < groups; g++)
            {
                for (int i = 0; i < group; i++)
                {
                    values[i] = w[(r * Cols) + (g * group) + i];
                }

                double best = double.PositiveInfinity;
                for (int step = 0; step <= steps; step++)
                {
                    double alpha = 1 - (0.5 * step / steps);
                    for (int i = 0; i < group; i++)
                    {
                        shrunk[i] = values[i] * alpha;
                    }

                    var (_, scale, inverse, zero) = quantizer.Parameters(shrunk, r, g);
                    for (int i = 0; i < group; i++)
                    {
                        trial[i] = quantizer.Code(values[i], inverse, zero);
                        error[i] = values[i] - (scale * (trial[i] - zero));
                    }

                    double loss = 0;
                    for (int i = 0; i < group; i++)
                    {
                        loss += error[i] * Dot(gram[g].AsSpan(i * group, group), error);
                    }

                    if (loss < best)
                    {
                        best = loss;
                        trial.CopyTo(codes, (r * Cols) + (g * group));
                    }
                }
            }
        });

        return codes;
    }

    /// <summary>The vector dot product the scalar search called per row of M (VectorMath.Dot).</summary>
    private static double Dot(ReadOnlySpan<double> a, ReadOnlySpan<double> b)
    {
        var va = MemoryMarshal.Cast<double, Vector<double>>(a);
        var vb = MemoryMarshal.Cast<double, Vector<double>>(b[..a.Length]);
        var sum = Vector<double>.Zero;
        for (int v = 0; v < va.Length; v++)
        {
            sum += va[v] * vb[v];
        }

        double total = Vector.Sum(sum);
        for (int i = va.Length * Vector<double>.Count; i < a.Length; i++)
        {
            total += a[i] * b[i];
        }

        return total;
    }
}
