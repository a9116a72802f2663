using System;

namespace KernelGen.Tests;

/// <summary>
/// Independent float64 implementations of what the scheme docs specify, written from the documentation and not
/// from the generated code: they read the packed layout bit by bit and recompute the quantization math.
/// </summary>
internal static class Reference
{
    /// <summary>Bits [bit, bit + width) of a little-endian stream of 32-bit words.</summary>
    public static int ReadBits(ReadOnlySpan<uint> words, long bit, int width)
    {
        int value = 0;
        for (int i = 0; i < width; i++)
        {
            long position = bit + i;
            uint word = words[(int)(position / 32)];
            value |= (int)((word >> (int)(position % 32)) & 1u) << i;
        }

        return value;
    }

    /// <summary>The code of weight (row, col): chunk (row · cols/32 + col/32) starts at word index · bits.</summary>
    public static int Code(ReadOnlySpan<uint> packed, int bits, int cols, int row, int col)
        => ReadBits(packed, (((long)row * (cols / 32)) + (col / 32)) * bits * 32 + ((col % 32) * bits), bits);

    /// <summary>The zero code of (group, row): code row · groups + group of one bit stream.</summary>
    public static int Zero(ReadOnlySpan<uint> zeros, int bits, int groups, int group, int row)
        => ReadBits(zeros, (((long)row * groups) + group) * bits, bits);

    /// <summary>The smallest binary16 value ≥ v, via System.Half (not KernelGen's Fp16).</summary>
    public static double HalfUp(double v)
    {
        var h = (Half)v;
        if ((double)h < v)
        {
            h = BitConverter.UInt16BitsToHalf((ushort)(BitConverter.HalfToUInt16Bits(h) + 1));
        }

        return (double)h;
    }

    /// <summary>y = x · Wᵀ in float64: x is m × k, w is n × k.</summary>
    public static double[] MatMul(ReadOnlySpan<float> x, ReadOnlySpan<float> w, int m, int n, int k)
    {
        var y = new double[m * n];
        for (int i = 0; i < m; i++)
        {
            for (int j = 0; j < n; j++)
            {
                double sum = 0;
                for (int t = 0; t < k; t++)
                {
                    sum += (double)x[(i * k) + t] * w[(j * k) + t];
                }

                y[(i * n) + j] = sum;
            }
        }

        return y;
    }

    /// <summary>softmax(logits) in float64, max-subtracted.</summary>
    public static double[] Softmax(ReadOnlySpan<float> logits)
    {
        double max = double.NegativeInfinity;
        foreach (float l in logits)
        {
            max = Math.Max(max, l);
        }

        var p = new double[logits.Length];
        double sum = 0;
        for (int i = 0; i < p.Length; i++)
        {
            p[i] = Math.Exp(logits[i] - max);
            sum += p[i];
        }

        for (int i = 0; i < p.Length; i++)
        {
            p[i] /= sum;
        }

        return p;
    }

    /// <summary>KL(p ‖ q) = Σ p · ln(p / q) in nats.</summary>
    public static double KlDivergence(double[] p, double[] q)
    {
        double kl = 0;
        for (int i = 0; i < p.Length; i++)
        {
            kl += p[i] > 0 ? p[i] * Math.Log(p[i] / q[i]) : 0;
        }

        return kl;
    }

    /// <summary>Index of the largest value.</summary>
    public static int ArgMax(double[] values)
    {
        int best = 0;
        for (int i = 1; i < values.Length; i++)
        {
            if (values[i] > values[best])
            {
                best = i;
            }
        }

        return best;
    }

    /// <summary>‖X·(W − Ŵ)ᵀ‖_F² for <paramref name="count"/> input rows X (count × cols) and rows × cols weights.</summary>
    public static double LayerOutputError(ReadOnlySpan<double> x, ReadOnlySpan<float> w, ReadOnlySpan<float> q, int count, int rows, int cols)
    {
        double total = 0;
        for (int s = 0; s < count; s++)
        {
            for (int r = 0; r < rows; r++)
            {
                double d = 0;
                for (int c = 0; c < cols; c++)
                {
                    d += x[(s * cols) + c] * (w[(r * cols) + c] - (double)q[(r * cols) + c]);
                }

                total += d * d;
            }
        }

        return total;
    }

    /// <summary>‖actual − expected‖₂ / ‖expected‖₂; NaN anywhere gives +∞.</summary>
    public static double RelativeError(ReadOnlySpan<float> actual, ReadOnlySpan<double> expected)
    {
        if (actual.Length != expected.Length)
        {
            throw new ArgumentException($"lengths differ: {actual.Length} vs {expected.Length}");
        }

        double diff = 0, norm = 0;
        for (int i = 0; i < actual.Length; i++)
        {
            if (!float.IsFinite(actual[i]))
            {
                return double.PositiveInfinity;
            }

            diff += (actual[i] - expected[i]) * (actual[i] - expected[i]);
            norm += expected[i] * expected[i];
        }

        return Math.Sqrt(diff / norm);
    }

    /// <summary>
    /// Checks a tensor-core result y[M, N] against float64 over x rounded to f16 (as the mma reads it) and the weights,
    /// themselves rounded to f16 when <paramref name="roundWeights"/> (the GEMM's scaled weights): each output within
    /// 1e-5 of Σ|x·w| (+1e-6). Where the kernel's f32 sums carry an offset per weight before a correction removes it
    /// (<paramref name="offsets"/>: the offset times the weight's scale, per weight row-major), the f32 rounding of those
    /// larger sums is allowed for too: 2^−21 of Σ|x|·offset more, eight times the rounding of one f32 sum of such terms.
    /// </summary>
    public static void AssertHalfInputProduct(float[] x, float[] w, float[] y, int m, int rows, int cols, bool roundWeights, string label, double[]? offsets = null)
    {
        for (int i = 0; i < m; i++)
        {
            for (int n = 0; n < rows; n++)
            {
                double expected = 0, magnitude = 0, carried = 0;
                for (int k = 0; k < cols; k++)
                {
                    double wv = roundWeights ? (double)(System.Half)w[(n * cols) + k] : w[(n * cols) + k];
                    double xv = (double)(System.Half)x[(i * cols) + k];
                    expected += xv * wv;
                    magnitude += Math.Abs(xv * wv);
                    carried += offsets is null ? 0 : Math.Abs(xv) * offsets[((long)n * cols) + k];
                }

                double error = Math.Abs(y[(i * rows) + n] - expected);
                Xunit.Assert.True(error <= (1e-5 * magnitude) + Math.ScaleB(carried, -21) + 1e-6, TestData.Describe($"{label} M={m} y[{i},{n}] = {y[(i * rows) + n]}, expected {expected} (|x||w| = {magnitude}, |x|·offsets = {carried})"));
            }
        }
    }
}
