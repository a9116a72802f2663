using System;

namespace KernelGen.Quantization;

/// <summary>
/// Round-to-nearest with a per-group clipping search (the cheap baseline of AWQ's paper and llama.cpp's quantizers):
/// for each group, the range is shrunk by α ∈ {1, 1 − s/n, …, 1 − s} (n = <c>steps</c>, s = <c>maxShrink</c>), the
/// group is quantized with the parameters of that range (values outside it clamp to the end codes), and the α with
/// the smallest squared weight error (or, given sample inputs, output error) wins. α = 1 is plain RTN, so no group
/// gets worse by the measure searched.
/// </summary>
public static class ClipSearch
{
    /// <summary>Quantizes row-major <paramref name="weights"/> ([rows, cols]) with the search, choosing each group's
    /// range by its squared weight error.</summary>
    public static QuantizedMatrix<TScheme> Quantize<TScheme>(ReadOnlySpan<float> weights, int rows, int cols, int steps = 20, double maxShrink = 0.5)
        where TScheme : struct, IQuantScheme
        => Quantize<TScheme>(weights, rows, cols, ReadOnlySpan<float>.Empty, 0, steps, maxShrink);

    /// <summary>
    /// As above, but each group's range is chosen by its contribution to the layer's output error on
    /// <paramref name="sample"/> (<paramref name="count"/> input rows of <paramref name="cols"/>): dᵀ·(X_gᵀX_g)·d for the
    /// group's weight error d, as AWQ's auto-clip does. An empty sample falls back to the weight error.
    /// </summary>
    public static QuantizedMatrix<TScheme> Quantize<TScheme>(ReadOnlySpan<float> weights, int rows, int cols, ReadOnlySpan<float> sample, int count, int steps = 20, double maxShrink = 0.5)
        where TScheme : struct, IQuantScheme
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(steps, 0);
        if (!(maxShrink >= 0 && maxShrink < 1))
        {
            throw new ArgumentOutOfRangeException(nameof(maxShrink), maxShrink, "The largest shrink must be in [0, 1).");
        }

        var info = TScheme.Info;
        var dims = QuantDims.Create(info, rows, cols);
        if (weights.Length != (long)rows * cols)
        {
            throw new ArgumentException($"{weights.Length} weights do not fill [{rows} × {cols}].", nameof(weights));
        }

        var quantizer = new GroupQuantizer(info);
        int groupSize = dims.GroupSize;
        var codes = new byte[(long)rows * cols];
        var scales = new ushort[(long)rows * dims.GroupsPerRow];
        var zeros = info.Symmetric ? Array.Empty<byte>() : new byte[scales.Length];

        // Per group of input channels, the Gram matrix of the sample's inputs (shared by every row).
        double[][]? gram = null;
        if (count > 0)
        {
            if (sample.Length < (long)count * cols)
            {
                throw new ArgumentException($"{sample.Length} sample values do not hold {count} rows of {cols}.", nameof(sample));
            }

            gram = new double[dims.GroupsPerRow][];
            for (int g = 0; g < dims.GroupsPerRow; g++)
            {
                var m = new double[groupSize * groupSize];
                for (int n = 0; n < count; n++)
                {
                    var x = sample.Slice((n * cols) + (g * groupSize), groupSize);
                    for (int i = 0; i < groupSize; i++)
                    {
                        for (int j = 0; j <= i; j++)
                        {
                            m[(i * groupSize) + j] += x[i] * (double)x[j];
                        }
                    }
                }

                for (int i = 0; i < groupSize; i++)
                {
                    for (int j = 0; j < i; j++)
                    {
                        m[(j * groupSize) + i] = m[(i * groupSize) + j];
                    }
                }

                gram[g] = m;
            }
        }

        // Rows are independent (each writes only its own codes and parameters): searched in parallel, each worker
        // with its own scratch, so the result does not depend on the schedule.
        int groupsPerRow = dims.GroupsPerRow;
        var weightArray = weights.ToArray();
        System.Threading.Tasks.Parallel.For(
            0,
            rows,
            () => (Group: new double[groupSize], Shrunk: new double[groupSize], Trial: new byte[groupSize], Error: new double[groupSize]),
            (r, _, scratch) =>
            {
                var (group, shrunk, trial, error) = scratch;
                for (int g = 0; g < groupsPerRow; g++)
                {
                    int start = g * groupSize;
                    for (int i = 0; i < groupSize; i++)
                    {
                        group[i] = weightArray[(r * cols) + start + i];
                    }

                    double best = double.PositiveInfinity;
                    for (int step = 0; step <= steps; step++)
                    {
                        double alpha = steps == 0 ? 1 : 1 - (maxShrink * step / steps);
                        for (int i = 0; i < groupSize; i++)
                        {
                            shrunk[i] = group[i] * alpha;
                        }

                        var (bits, scale, inverse, zero) = quantizer.Parameters(shrunk, r, g);
                        for (int i = 0; i < groupSize; i++)
                        {
                            trial[i] = quantizer.Code(group[i], inverse, zero);
                            error[i] = group[i] - (scale * (trial[i] - zero));
                        }

                        double loss = gram is null ? SquaredNorm(error) : QuadraticForm(gram[g], error);
                        if (loss < best)
                        {
                            best = loss;
                            trial.CopyTo(codes.AsSpan((r * cols) + start, groupSize));
                            scales[(r * groupsPerRow) + g] = bits;
                            if (!info.Symmetric)
                            {
                                zeros[(r * groupsPerRow) + g] = (byte)zero;
                            }
                        }
                    }
                }

                return scratch;
            },
            _ => { });

        return QuantizedMatrix<TScheme>.FromCodes(rows, cols, codes, scales, zeros);
    }

    private static double SquaredNorm(double[] d)
    {
        double sum = 0;
        foreach (double v in d)
        {
            sum += v * v;
        }

        return sum;
    }

    private static double QuadraticForm(double[] m, double[] d)
    {
        int n = d.Length;
        double sum = 0;
        for (int i = 0; i < n; i++)
        {
            sum += d[i] * VectorMath.Dot(m.AsSpan(i * n, n), d);
        }

        return sum;
    }
}
