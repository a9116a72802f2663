using System;
using System.Numerics;
using System.Runtime.InteropServices;

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

            // Each product of two floats is exact in double and every entry sums over the sample rows in order, so
            // whole rows of M added as vectors give the same numbers as entry by entry.
            gram = new double[dims.GroupsPerRow][];
            var sampleArray = sample[..(count * cols)].ToArray();
            System.Threading.Tasks.Parallel.For(0, dims.GroupsPerRow, g =>
            {
                var m = new double[groupSize * groupSize];
                var x = new double[groupSize];
                for (int n = 0; n < count; n++)
                {
                    for (int i = 0; i < groupSize; i++)
                    {
                        x[i] = sampleArray[(n * cols) + (g * groupSize) + i];
                    }

                    for (int i = 0; i < groupSize; i++)
                    {
                        if (x[i] != 0)
                        {
                            VectorMath.AddScaled(m.AsSpan(i * groupSize, groupSize), x[i], x);
                        }
                    }
                }

                gram[g] = m;
            });
        }

        // Rows are independent (each writes only its own codes and parameters): searched in parallel, each worker
        // with its own scratch, so the result does not depend on the schedule.
        int groupsPerRow = dims.GroupsPerRow;
        var weightArray = weights.ToArray();
        System.Threading.Tasks.Parallel.For(
            0,
            rows,
            () => (Group: new double[groupSize], Trial: new double[groupSize], Error: new double[groupSize], Product: new double[groupSize]),
            (r, _, scratch) =>
            {
                var (group, trial, error, product) = scratch;
                for (int g = 0; g < groupsPerRow; g++)
                {
                    int start = g * groupSize;
                    for (int i = 0; i < groupSize; i++)
                    {
                        group[i] = weightArray[(r * cols) + start + i];
                    }

                    // The range of the group shrunk by α is α times the group's range, exactly.
                    var (lo, hi, absMax) = GroupQuantizer.Range(group);
                    double best = double.PositiveInfinity;
                    for (int step = 0; step <= steps; step++)
                    {
                        double alpha = steps == 0 ? 1 : 1 - (maxShrink * step / steps);
                        var (bits, scale, inverse, zero) = quantizer.Parameters(lo * alpha, hi * alpha, absMax * alpha, r, g);
                        quantizer.CodesAndErrors(group, scale, inverse, zero, trial, error);
                        double loss = gram is null ? VectorMath.Dot(error, error) : QuadraticForm(gram[g], error, product);
                        if (loss < best)
                        {
                            best = loss;
                            var kept = codes.AsSpan((r * cols) + start, groupSize);
                            for (int i = 0; i < groupSize; i++)
                            {
                                kept[i] = (byte)trial[i];
                            }

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

    /// <summary>dᵀ·M·d for symmetric M (n × n, row-major), as d · (Σ_j d_j·M_j): M's rows added to
    /// <paramref name="product"/> (n scratch values) in vector lanes, four rows per pass over it, and one dot product at
    /// the end.</summary>
    private static double QuadraticForm(double[] m, double[] d, double[] product)
    {
        int n = d.Length;
        if (!Vector.IsHardwareAccelerated || n % Vector<double>.Count != 0 || n % 4 != 0)
        {
            Array.Clear(product);
            for (int j = 0; j < n; j++)
            {
                VectorMath.AddScaled(product, d[j], m.AsSpan(j * n, n));
            }

            return VectorMath.Dot(product, d);
        }

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
