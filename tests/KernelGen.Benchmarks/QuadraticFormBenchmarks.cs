using System;
using System.Numerics;
using System.Runtime.InteropServices;
using BenchmarkDotNet.Attributes;
using KernelGen.Quantization;

namespace KernelGen.Benchmarks;

/// <summary>
/// The clip search's inner loop: dᵀ·M·d for 4 candidates' error vectors d against one group's Gram matrix M (n × n,
/// n = group size), i.e. one batch of <see cref="ClipSearch"/>'s candidates. The baseline is the form the search used
/// before candidates were batched (session 37): one candidate at a time, four rows of M per pass over an accumulator
/// in memory, separate multiplies and adds. Random M = XᵀX and d, fixed seed.
/// </summary>
public class QuadraticFormBenchmarks
{
    private const int Candidates = 4;
    private double[] m = null!;
    private double[] errors = null!;
    private readonly double[] losses = new double[Candidates];
    private double[] product = null!;

    [Params(32, 128)]
    public int N { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        var random = new Random(37);
        var x = new double[64 * N];
        for (int i = 0; i < x.Length; i++)
        {
            x[i] = (random.NextDouble() * 2) - 1;
        }

        m = new double[N * N];
        for (int r = 0; r < 64; r++)
        {
            for (int i = 0; i < N; i++)
            {
                for (int j = 0; j < N; j++)
                {
                    m[(i * N) + j] += x[(r * N) + i] * x[(r * N) + j];
                }
            }
        }

        errors = new double[Candidates * N];
        for (int i = 0; i < errors.Length; i++)
        {
            errors[i] = ((random.NextDouble() * 2) - 1) * 0.01;
        }

        product = new double[N];
    }

    [Benchmark(Baseline = true, Description = "one candidate at a time (before)")]
    public double OneAtATime()
    {
        double sum = 0;
        for (int k = 0; k < Candidates; k++)
        {
            sum += QuadraticForm(m, errors.AsSpan(k * N, N), product);
        }

        return sum;
    }

    [Benchmark(Description = "ClipSearch.QuadraticForms (4 candidates, FMA)")]
    public double Batched()
    {
        ClipSearch.QuadraticForms(m, errors, N, Candidates, losses, product);
        return losses[0] + losses[1] + losses[2] + losses[3];
    }

    /// <summary>The search's dᵀ·M·d before session 37 (n a multiple of 4 and of the vector width).</summary>
    private static double QuadraticForm(double[] m, ReadOnlySpan<double> d, double[] product)
    {
        int n = d.Length;
        var acc = MemoryMarshal.Cast<double, Vector<double>>(product.AsSpan(0, n));
        var rows = MemoryMarshal.Cast<double, Vector<double>>(m.AsSpan(0, n * n));
        int stride = acc.Length;
        acc.Clear();
        for (int j = 0; j < n; j += 4)
        {
            Vector<double> a0 = new(d[j]), a1 = new(d[j + 1]), a2 = new(d[j + 2]), a3 = new(d[j + 3]);
            int r = j * stride;
            for (int v = 0; v < stride; v++, r++)
            {
                acc[v] += (a0 * rows[r]) + (a1 * rows[r + stride]) + (a2 * rows[r + (2 * stride)]) + (a3 * rows[r + (3 * stride)]);
            }
        }

        return VectorMath.Dot(product, d);
    }
}
