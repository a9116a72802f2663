using System;

namespace KernelGen.Quantization;

/// <summary>An AWQ-quantized layer: the quantized W·diag(s) and the input scales s; y = Q(W·diag(s)) · (x / s).</summary>
public sealed record AwqResult<TScheme>(QuantizedMatrix<TScheme> Scaled, float[] InputScales, double Alpha)
    where TScheme : struct, IQuantScheme
{
    /// <summary>The effective weights Q(W·diag(s))·diag(s)⁻¹ (rows × cols), as dense floats.</summary>
    public float[] EffectiveWeights()
    {
        var w = Scaled.Dequantize();
        int cols = Scaled.Cols;
        for (int i = 0; i < w.Length; i++)
        {
            w[i] /= InputScales[i % cols];
        }

        return w;
    }
}

/// <summary>
/// AWQ (Lin et al., 2023): protects the weights of salient input channels, those with large mean |x|, by scaling
/// them up before quantization and the inputs down by the same factor: s = s_x^α normalized so that
/// max(s)·min(s) = 1, with α chosen on a grid of 20 points in [0, 1) by the layer-output error on real inputs.
/// α = 0 gives s = 1, plain round-to-nearest.
/// </summary>
public static class Awq
{
    /// <summary>Sample rows that score each α (the first ones captured): enough to rank 20 candidates, and it bounds
    /// the search's cost at 20 × 128 × rows × cols multiply-adds per layer.</summary>
    public const int SearchRows = 128;

    /// <summary>The α grid: 0, 0.05, …, 0.95.</summary>
    public static readonly double[] Grid = CreateGrid(20);

    /// <summary>Quantizes <paramref name="weights"/> (rows × cols) choosing α on <paramref name="grid"/> by
    /// Σ‖x·(W − W_eff)ᵀ‖² over <paramref name="sample"/> (count × cols inputs); <paramref name="meanAbsolute"/> is
    /// the mean |x| per input channel over the calibration data.</summary>
    /// <param name="weights">Row-major [rows, cols].</param>
    /// <param name="rows">Output features.</param>
    /// <param name="cols">Input features.</param>
    /// <param name="meanAbsolute">Mean |x| per input channel.</param>
    /// <param name="sample">Calibration inputs, count × cols.</param>
    /// <param name="count">Sample rows.</param>
    /// <param name="grid">α values (default <see cref="Grid"/>).</param>
    /// <param name="clipSearch">After α, choose each group's range by its output error on (up to 64 of) the sample
    /// inputs (AWQ's auto-clip, <see cref="ClipSearch"/>); false keeps min–max ranges, so α = 0 is exactly RTN.</param>
    public static AwqResult<TScheme> Quantize<TScheme>(ReadOnlySpan<float> weights, int rows, int cols, ReadOnlySpan<double> meanAbsolute, ReadOnlySpan<float> sample, int count, ReadOnlySpan<double> grid = default, bool clipSearch = false)
        where TScheme : struct, IQuantScheme
    {
        if (weights.Length != (long)rows * cols || meanAbsolute.Length != cols || sample.Length < (long)count * cols || count <= 0)
        {
            throw new ArgumentException(FormattableString.Invariant(
                $"AWQ needs {(long)rows * cols} weights, {cols} channel means and {count} sample rows of {cols}; got {weights.Length}, {meanAbsolute.Length} and {sample.Length} values."));
        }

        if (grid.IsEmpty)
        {
            grid = Grid;
        }

        var scaled = new float[weights.Length];
        var scales = new float[cols];
        AwqResult<TScheme>? best = null;
        double bestLoss = double.PositiveInfinity;
        foreach (double alpha in grid)
        {
            // s = s_x^α, floored away from 0, normalized to max·min = 1 (the reference implementation's choice).
            double max = 0, min = double.PositiveInfinity;
            for (int c = 0; c < cols; c++)
            {
                double s = Math.Pow(Math.Max(meanAbsolute[c], 1e-4), alpha);
                scales[c] = (float)s;
                max = Math.Max(max, s);
                min = Math.Min(min, s);
            }

            float norm = (float)Math.Sqrt(max * min);
            for (int c = 0; c < cols; c++)
            {
                scales[c] /= norm;
            }

            for (int i = 0; i < weights.Length; i++)
            {
                scaled[i] = weights[i] * scales[i % cols];
            }

            var candidate = new AwqResult<TScheme>(QuantizedMatrix<TScheme>.Quantize(scaled, rows, cols), (float[])scales.Clone(), alpha);
            double loss = OutputError(weights, candidate.EffectiveWeights(), rows, cols, sample, Math.Min(count, SearchRows));
            if (loss < bestLoss)
            {
                bestLoss = loss;
                best = candidate;
            }
        }

        if (!clipSearch)
        {
            return best!;
        }

        // Clip search on the scaled weights W·diag(s), whose inputs are x·diag(s)⁻¹.
        int clipRows = Math.Min(count, 64);
        var scaledSample = new float[clipRows * cols];
        for (int n = 0; n < clipRows; n++)
        {
            for (int c = 0; c < cols; c++)
            {
                scaledSample[(n * cols) + c] = sample[(n * cols) + c] / best!.InputScales[c];
            }
        }

        for (int i = 0; i < weights.Length; i++)
        {
            scaled[i] = weights[i] * best!.InputScales[i % cols];
        }

        return best! with { Scaled = ClipSearch.Quantize<TScheme>(scaled, rows, cols, scaledSample, clipRows) };
    }

    private static double OutputError(ReadOnlySpan<float> w, float[] q, int rows, int cols, ReadOnlySpan<float> x, int count)
    {
        // Σ_s Σ_r (x_s · (w_r − q_r))², with the difference rows formed once.
        var d = new float[(long)rows * cols];
        for (int i = 0; i < d.Length; i++)
        {
            d[i] = w[i] - q[i];
        }

        double total = 0;
        for (int s = 0; s < count; s++)
        {
            var input = x.Slice(s * cols, cols);
            for (int r = 0; r < rows; r++)
            {
                double e = VectorMath.Dot(input, d.AsSpan(r * cols, cols));
                total += e * e;
            }
        }

        return total;
    }

    private static double[] CreateGrid(int points)
    {
        var grid = new double[points];
        for (int i = 0; i < points; i++)
        {
            grid[i] = (double)i / points;
        }

        return grid;
    }
}
