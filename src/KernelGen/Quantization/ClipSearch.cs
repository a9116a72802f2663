using System;
using System.Numerics;
using System.Runtime.CompilerServices;
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
        // with its own scratch, so the result does not depend on the schedule. Candidates are scored Batch at a time,
        // so that each row of a group's M serves all of them (QuadraticForms), and kept in order: the first lowest wins.
        int groupsPerRow = dims.GroupsPerRow;
        var weightArray = weights.ToArray();
        System.Threading.Tasks.Parallel.For(
            0,
            rows,
            () => new Scratch(groupSize),
            (r, _, scratch) =>
            {
                var group = scratch.Group;
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
                    for (int first = 0; first <= steps; first += Batch)
                    {
                        int candidates = Math.Min(Batch, steps + 1 - first);
                        for (int k = 0; k < candidates; k++)
                        {
                            int step = first + k;
                            double alpha = steps == 0 ? 1 : 1 - (maxShrink * step / steps);
                            var p = quantizer.Parameters(lo * alpha, hi * alpha, absMax * alpha, r, g);
                            scratch.Parameters[k] = (p.ScaleBits, p.Zero);
                            quantizer.CodesAndErrors(group, p.Scale, p.Inverse, p.Zero, scratch.Trials.AsSpan(k * groupSize, groupSize), scratch.Errors.AsSpan(k * groupSize, groupSize));
                        }

                        if (gram is null)
                        {
                            for (int k = 0; k < candidates; k++)
                            {
                                var error = scratch.Errors.AsSpan(k * groupSize, groupSize);
                                scratch.Losses[k] = VectorMath.Dot(error, error);
                            }
                        }
                        else
                        {
                            QuadraticForms(gram[g], scratch.Errors, groupSize, candidates, scratch.Losses, scratch.Product);
                        }

                        for (int k = 0; k < candidates; k++)
                        {
                            if (scratch.Losses[k] < best)
                            {
                                best = scratch.Losses[k];
                                var kept = codes.AsSpan((r * cols) + start, groupSize);
                                var trial = scratch.Trials.AsSpan(k * groupSize, groupSize);
                                for (int i = 0; i < groupSize; i++)
                                {
                                    kept[i] = (byte)trial[i];
                                }

                                var (bits, zero) = scratch.Parameters[k];
                                scales[(r * groupsPerRow) + g] = bits;
                                if (!info.Symmetric)
                                {
                                    zeros[(r * groupsPerRow) + g] = (byte)zero;
                                }
                            }
                        }
                    }
                }

                return scratch;
            },
            _ => { });

        return QuantizedMatrix<TScheme>.FromCodes(rows, cols, codes, scales, zeros);
    }

    /// <summary>Candidates scored together (<see cref="QuadraticForms"/>).</summary>
    private const int Batch = 4;

    /// <summary>One worker's buffers: a group, <see cref="Batch"/> candidates' codes, errors and losses.</summary>
    private sealed class Scratch(int groupSize)
    {
        public double[] Group { get; } = new double[groupSize];

        public double[] Trials { get; } = new double[Batch * groupSize];

        public double[] Errors { get; } = new double[Batch * groupSize];

        public double[] Product { get; } = new double[groupSize];

        public double[] Losses { get; } = new double[Batch];

        public (ushort ScaleBits, int Zero)[] Parameters { get; } = new (ushort, int)[Batch];
    }

    /// <summary>
    /// losses[k] = d_kᵀ·M·d_k for the <paramref name="count"/> (≤ <see cref="Batch"/>) error vectors d_k of
    /// <paramref name="errors"/> (n values each, one after another) and symmetric M (n × n, row-major). In vector lanes
    /// where n is a multiple of two vectors and the CPU fuses multiply-adds (x64 FMA3, Arm64): per pair of vectors of
    /// columns, each row j of M is loaded once and added, scaled by d_k[j], into every candidate's accumulators with fused
    /// multiply-adds (M·d_k, as M is symmetric), then dotted with d_k. Otherwise one candidate at a time through
    /// <paramref name="product"/> (n values).
    /// </summary>
    internal static void QuadraticForms(double[] m, double[] errors, int n, int count, double[] losses, double[] product)
    {
        int width = Vector<double>.Count;
        if (!Vector.IsHardwareAccelerated || !(System.Runtime.Intrinsics.X86.Fma.IsSupported || System.Runtime.Intrinsics.Arm.AdvSimd.IsSupported) || n % (2 * width) != 0)
        {
            for (int k = 0; k < count; k++)
            {
                var d = errors.AsSpan(k * n, n);
                Array.Clear(product);
                for (int j = 0; j < n; j++)
                {
                    VectorMath.AddScaled(product, d[j], m.AsSpan(j * n, n));
                }

                losses[k] = VectorMath.Dot(product, d);
            }

            return;
        }

        // Candidates past count read the first one's errors; their sums are not kept.
        int d1 = count > 1 ? n : 0, d2 = count > 2 ? 2 * n : 0, d3 = count > 3 ? 3 * n : 0;
        Vector<double> l0 = default, l1 = default, l2 = default, l3 = default;
        ref double rows = ref MemoryMarshal.GetArrayDataReference(m);
        ref double e = ref MemoryMarshal.GetArrayDataReference(errors);
        for (int c = 0; c < n; c += 2 * width)
        {
            Vector<double> a0 = default, b0 = default, a1 = default, b1 = default, a2 = default, b2 = default, a3 = default, b3 = default;
            nint at = c;
            for (int j = 0; j < n; j++, at += n)
            {
                var m0 = Vector.LoadUnsafe(ref rows, (nuint)at);
                var m1 = Vector.LoadUnsafe(ref rows, (nuint)(at + width));
                var s0 = new Vector<double>(Unsafe.Add(ref e, j));
                var s1 = new Vector<double>(Unsafe.Add(ref e, d1 + j));
                var s2 = new Vector<double>(Unsafe.Add(ref e, d2 + j));
                var s3 = new Vector<double>(Unsafe.Add(ref e, d3 + j));
                a0 = Vector.FusedMultiplyAdd(s0, m0, a0);
                b0 = Vector.FusedMultiplyAdd(s0, m1, b0);
                a1 = Vector.FusedMultiplyAdd(s1, m0, a1);
                b1 = Vector.FusedMultiplyAdd(s1, m1, b1);
                a2 = Vector.FusedMultiplyAdd(s2, m0, a2);
                b2 = Vector.FusedMultiplyAdd(s2, m1, b2);
                a3 = Vector.FusedMultiplyAdd(s3, m0, a3);
                b3 = Vector.FusedMultiplyAdd(s3, m1, b3);
            }

            l0 = Chunk(l0, a0, b0, ref e, c, width);
            l1 = Chunk(l1, a1, b1, ref e, d1 + c, width);
            l2 = Chunk(l2, a2, b2, ref e, d2 + c, width);
            l3 = Chunk(l3, a3, b3, ref e, d3 + c, width);
        }

        losses[0] = Vector.Sum(l0);
        if (count > 1)
        {
            losses[1] = Vector.Sum(l1);
        }

        if (count > 2)
        {
            losses[2] = Vector.Sum(l2);
        }

        if (count > 3)
        {
            losses[3] = Vector.Sum(l3);
        }

        static Vector<double> Chunk(Vector<double> sum, Vector<double> a, Vector<double> b, ref double e, int at, int width)
            => Vector.FusedMultiplyAdd(b, Vector.LoadUnsafe(ref e, (nuint)(at + width)), Vector.FusedMultiplyAdd(a, Vector.LoadUnsafe(ref e, (nuint)at), sum));
    }
}
