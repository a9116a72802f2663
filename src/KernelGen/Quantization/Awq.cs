using System;
using System.Collections.Generic;
using System.Linq;

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
/// α = 0 gives s = 1, plain round-to-nearest. Given per-channel weight means, the search also tries AutoAWQ's
/// weight-aware form s = s_x^α / s_w^(1−α) (its default, "duo scaling") and keeps whichever scores lower.
/// </summary>
public static class Awq
{
    /// <summary>Sample rows that score each α (the first ones captured): enough to rank 20 candidates, and it bounds
    /// the search's cost at 20 × 128 × rows × cols multiply-adds per layer.</summary>
    public const int SearchRows = 128;

    /// <summary>Sample rows the clip search scores each group's range on.</summary>
    public const int ClipRows = 512;

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
    /// <param name="clipSearch">Choose each group's range by its output error on (up to <see cref="ClipRows"/> of) the
    /// sample inputs (AWQ's auto-clip, <see cref="ClipSearch"/>), with each α scored on the layer so clipped; false
    /// keeps min–max ranges, so α = 0 is exactly RTN.</param>
    public static AwqResult<TScheme> Quantize<TScheme>(ReadOnlySpan<float> weights, int rows, int cols, ReadOnlySpan<double> meanAbsolute, ReadOnlySpan<float> sample, int count, ReadOnlySpan<double> grid = default, bool clipSearch = false)
        where TScheme : struct, IQuantScheme
    {
        var layer = weights.ToArray();
        var (scales, alpha, _) = SearchScales<TScheme>([(layer, rows)], cols, meanAbsolute, sample, count, grid, clipSearch: clipSearch);
        return new AwqResult<TScheme>(QuantizeScaled<TScheme>(layer, rows, cols, scales, sample, count, clipSearch), scales, alpha);
    }

    /// <summary>
    /// AWQ's scale search for layers that read the same input (e.g. q, k and v after one norm): one s = s_x^α for all
    /// of them, with α on <paramref name="grid"/> minimizing the sum of their output errors Σ‖x·(W − W_eff)ᵀ‖² on
    /// (up to <see cref="SearchRows"/> of) <paramref name="sample"/>, where W_eff = Q(W·diag(s))·diag(s)⁻¹. Channels
    /// with equal <paramref name="meanAbsolute"/> get equal scales, which is how a caller ties channels together.
    /// </summary>
    /// <param name="layers">Each layer's row-major weights [rows, cols] and rows.</param>
    /// <param name="cols">Input features (shared).</param>
    /// <param name="meanAbsolute">Mean |x| per input channel.</param>
    /// <param name="sample">Calibration inputs, count × cols.</param>
    /// <param name="count">Sample rows.</param>
    /// <param name="grid">α values (default <see cref="Grid"/>).</param>
    /// <param name="weightMeans">Per-channel weight means (<see cref="WeightMeans{TScheme}"/>); when given, the
    /// weight-aware form is searched too.</param>
    /// <param name="clipSearch">Score each α with the layers quantized as they will be deployed, after the clip
    /// search on the sample (<see cref="QuantizeScaledWeights"/>), rather than with min–max ranges.</param>
    /// <returns>The scales (normalized so that max·min = 1), the α that gave them, and whether they are the
    /// weight-aware form.</returns>
    public static (float[] Scales, double Alpha, bool WeightAware) SearchScales<TScheme>(IReadOnlyList<(float[] Weights, int Rows)> layers, int cols, ReadOnlySpan<double> meanAbsolute, ReadOnlySpan<float> sample, int count, ReadOnlySpan<double> grid = default, ReadOnlySpan<double> weightMeans = default, bool clipSearch = false)
        where TScheme : struct, IQuantScheme
    {
        ArgumentNullException.ThrowIfNull(layers);
        if (layers.Count == 0 || meanAbsolute.Length != cols || sample.Length < (long)count * cols || count <= 0)
        {
            throw new ArgumentException(FormattableString.Invariant(
                $"AWQ needs at least one layer, {cols} channel means and {count} sample rows of {cols}; got {layers.Count} layers, {meanAbsolute.Length} means and {sample.Length} sample values."));
        }

        foreach (var (w, rows) in layers)
        {
            if (w.Length != (long)rows * cols)
            {
                throw new ArgumentException(FormattableString.Invariant($"AWQ: a layer of {w.Length} weights is not [{rows} × {cols}]."), nameof(layers));
            }
        }

        int searchRows = Math.Min(count, SearchRows);
        var x = sample.Slice(0, searchRows * cols).ToArray();
        return SearchScales<TScheme>(layers, cols, meanAbsolute, effective =>
        {
            double loss = 0;
            for (int i = 0; i < layers.Count; i++)
            {
                loss += OutputError(layers[i].Weights, effective[i], layers[i].Rows, cols, x, searchRows);
            }

            return loss;
        }, grid, weightMeans, clipSearch ? sample : default, clipSearch ? count : 0);
    }

    /// <summary>
    /// The scale search with the caller's loss: for each α on <paramref name="grid"/>, <paramref name="loss"/> gets
    /// every layer's effective weights Q(W·diag(s))·diag(s)⁻¹ (in <paramref name="layers"/>' order) and returns the
    /// error to minimize, e.g. that of the module the layers feed (AWQ measures q, k, v by the attention output).
    /// With <paramref name="weightMeans"/>, each α is also tried in the weight-aware form (<see cref="Scales"/>).
    /// </summary>
    public static (float[] Scales, double Alpha, bool WeightAware) SearchScales<TScheme>(IReadOnlyList<(float[] Weights, int Rows)> layers, int cols, ReadOnlySpan<double> meanAbsolute, Func<float[][], double> loss, ReadOnlySpan<double> grid = default, ReadOnlySpan<double> weightMeans = default, ReadOnlySpan<float> clipSample = default, int clipCount = 0)
        where TScheme : struct, IQuantScheme
    {
        ArgumentNullException.ThrowIfNull(layers);
        ArgumentNullException.ThrowIfNull(loss);
        if (layers.Count == 0 || meanAbsolute.Length != cols || (!weightMeans.IsEmpty && weightMeans.Length != cols))
        {
            throw new ArgumentException(FormattableString.Invariant(
                $"AWQ needs at least one layer, {cols} channel means and no or {cols} weight means; got {layers.Count} layers, {meanAbsolute.Length} channel means and {weightMeans.Length} weight means."));
        }

        if (grid.IsEmpty)
        {
            grid = Grid;
        }

        var scaled = new float[layers.Max(l => l.Weights.Length)];
        float[]? best = null;
        double bestAlpha = 0, bestLoss = double.PositiveInfinity;
        bool bestWeightAware = false;
        var candidates = new List<(double Alpha, bool WeightAware)>();
        foreach (double alpha in grid)
        {
            candidates.Add((alpha, false));
            if (!weightMeans.IsEmpty)
            {
                candidates.Add((alpha, true));
            }
        }

        foreach (var (alpha, weightAware) in candidates)
        {
            var scales = Scales(meanAbsolute, alpha, weightAware ? weightMeans : default);
            var effective = new float[layers.Count][];
            for (int l = 0; l < layers.Count; l++)
            {
                var (w, rows) = layers[l];
                for (int i = 0; i < w.Length; i++)
                {
                    scaled[i] = w[i] * scales[i % cols];
                }

                effective[l] = (clipCount > 0
                    ? QuantizeScaledWeights<TScheme>(scaled.AsSpan(0, w.Length), rows, cols, scales, clipSample, clipCount, clipSearch: true)
                    : QuantizedMatrix<TScheme>.Quantize(scaled.AsSpan(0, w.Length), rows, cols)).Dequantize();
                for (int i = 0; i < effective[l].Length; i++)
                {
                    effective[l][i] /= scales[i % cols];
                }
            }

            double value = loss(effective);
            if (value < bestLoss)
            {
                (bestLoss, best, bestAlpha, bestWeightAware) = (value, scales, alpha, weightAware);
            }
        }

        return (best!, bestAlpha, bestWeightAware);
    }

    /// <summary>
    /// s = s_x^α, or with <paramref name="weightMeans"/> AutoAWQ's weight-aware s = s_x^α / (s_w^(1−α) + 10⁻⁴)
    /// floored at 10⁻⁴; normalized to max·min = 1 (the reference implementation's choices).
    /// </summary>
    public static float[] Scales(ReadOnlySpan<double> meanAbsolute, double alpha, ReadOnlySpan<double> weightMeans = default)
    {
        var scales = new float[meanAbsolute.Length];
        double max = 0, min = double.PositiveInfinity;
        for (int c = 0; c < scales.Length; c++)
        {
            double s = weightMeans.IsEmpty
                ? Math.Pow(Math.Max(meanAbsolute[c], 1e-4), alpha)
                : Math.Max(Math.Pow(meanAbsolute[c], alpha) / (Math.Pow(weightMeans[c], 1 - alpha) + 1e-4), 1e-4);
            scales[c] = (float)s;
            max = Math.Max(max, s);
            min = Math.Min(min, s);
        }

        float norm = (float)Math.Sqrt(max * min);
        for (int c = 0; c < scales.Length; c++)
        {
            scales[c] /= norm;
        }

        return scales;
    }

    /// <summary>
    /// AutoAWQ's per-input-channel weight salience s_w: each weight's |w| over its group's max |w| (rows of all
    /// <paramref name="layers"/> together), averaged over the rows.
    /// </summary>
    public static double[] WeightMeans<TScheme>(IReadOnlyList<(float[] Weights, int Rows)> layers, int cols)
        where TScheme : struct, IQuantScheme
    {
        ArgumentNullException.ThrowIfNull(layers);
        var info = TScheme.Info;
        int group = info.IsPerChannel ? cols : info.GroupSize;
        var sum = new double[cols];
        long total = 0;
        foreach (var (w, rows) in layers)
        {
            if (w.Length != (long)rows * cols)
            {
                throw new ArgumentException(FormattableString.Invariant($"AWQ: a layer of {w.Length} weights is not [{rows} × {cols}]."), nameof(layers));
            }

            total += rows;
            for (int r = 0; r < rows; r++)
            {
                var row = w.AsSpan(r * cols, cols);
                for (int start = 0; start < cols; start += group)
                {
                    var g = row.Slice(start, Math.Min(group, cols - start));
                    double max = 0;
                    foreach (float v in g)
                    {
                        max = Math.Max(max, Math.Abs(v));
                    }

                    for (int i = 0; i < g.Length; i++)
                    {
                        sum[start + i] += Math.Abs(g[i]) / (max + 1e-6);
                    }
                }
            }
        }

        for (int c = 0; c < cols; c++)
        {
            sum[c] /= total;
        }

        return sum;
    }

    /// <summary>
    /// Q(W·diag(s)): the weights scaled by the chosen input scales, quantized by <see cref="QuantizeScaledWeights"/>.
    /// </summary>
    public static QuantizedMatrix<TScheme> QuantizeScaled<TScheme>(ReadOnlySpan<float> weights, int rows, int cols, ReadOnlySpan<float> scales, ReadOnlySpan<float> sample, int count, bool clipSearch)
        where TScheme : struct, IQuantScheme
    {
        if (weights.Length != (long)rows * cols || scales.Length != cols)
        {
            throw new ArgumentException(FormattableString.Invariant($"AWQ: {weights.Length} weights and {scales.Length} scales do not match [{rows} × {cols}]."));
        }

        var scaled = new float[weights.Length];
        for (int i = 0; i < weights.Length; i++)
        {
            scaled[i] = weights[i] * scales[i % cols];
        }

        return QuantizeScaledWeights<TScheme>(scaled, rows, cols, scales, sample, count, clipSearch);
    }

    /// <summary>
    /// Quantizes weights that already carry their input scales (W·diag(s), e.g. a folded model's projection) with
    /// min–max ranges or, with <paramref name="clipSearch"/>, AWQ's per-group clip search on the first
    /// <see cref="ClipRows"/> sample inputs divided by <paramref name="inputScales"/> (the inputs the scaled layer
    /// sees; the first <c>inputScales.Length</c> channels, none when empty).
    /// </summary>
    public static QuantizedMatrix<TScheme> QuantizeScaledWeights<TScheme>(ReadOnlySpan<float> scaledWeights, int rows, int cols, ReadOnlySpan<float> inputScales, ReadOnlySpan<float> sample, int count, bool clipSearch)
        where TScheme : struct, IQuantScheme
    {
        if (!clipSearch)
        {
            return QuantizedMatrix<TScheme>.Quantize(scaledWeights, rows, cols);
        }

        int clipRows = Math.Min(count, ClipRows);
        var scaledSample = sample.Slice(0, clipRows * cols).ToArray();
        for (int n = 0; n < clipRows; n++)
        {
            for (int c = 0; c < inputScales.Length; c++)
            {
                scaledSample[(n * cols) + c] /= inputScales[c];
            }
        }

        return ClipSearch.Quantize<TScheme>(scaledWeights, rows, cols, scaledSample, clipRows);
    }

    private static double OutputError(ReadOnlySpan<float> w, ReadOnlySpan<float> q, int rows, int cols, ReadOnlySpan<float> x, int count)
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

/// <summary>A Llama model quantized by AWQ with its scales folded in: <see cref="Folded"/> is the float model with
/// <see cref="Scales"/> folded in (<see cref="LlamaQuantizer.Fold"/>: the same function as the original), and
/// <see cref="Quantized"/> holds its quantized projections (K-padded), by name.</summary>
public sealed record AwqModel<TScheme>(Models.LlamaWeights Folded, Dictionary<string, QuantizedMatrix<TScheme>> Quantized, AwqScales Scales, Dictionary<string, double> Alphas)
    where TScheme : struct, IQuantScheme;

/// <summary>
/// AWQ's input scales of a Llama model, per layer (null where a group was not scaled): <see cref="Attention"/> for q,
/// k, v (folded into the attention RMSNorm gain), <see cref="AttentionOutput"/> for the attention output (into v's
/// rows; equal across query heads that share a kv head), <see cref="Ffn"/> for gate and up (into the FFN RMSNorm
/// gain), <see cref="FfnDown"/> for down (into up's rows).
/// </summary>
public sealed record AwqScales(float[]?[] Attention, float[]?[] AttentionOutput, float[]?[] Ffn, float[]?[] FfnDown)
{
    /// <summary>What projection <paramref name="name"/> ("blk.N.attn_q", …) sees its inputs divided by in the folded
    /// model, or null.</summary>
    public float[]? InputScales(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        var parts = name.Split('.');
        if (parts.Length != 3 || !int.TryParse(parts[1], System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out int l) || l >= Attention.Length)
        {
            return null;
        }

        return parts[2] switch
        {
            "attn_q" or "attn_k" or "attn_v" => Attention[l],
            "attn_output" => AttentionOutput[l],
            "ffn_gate" or "ffn_up" => Ffn[l],
            "ffn_down" => FfnDown[l],
            _ => null,
        };
    }
}
