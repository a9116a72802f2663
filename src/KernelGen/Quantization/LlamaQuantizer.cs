using System;
using System.Collections.Generic;
using System.Linq;
using System.Runtime.InteropServices;
using KernelGen.Backends;
using KernelGen.Layers;
using KernelGen.Models;

namespace KernelGen.Quantization;

/// <summary>
/// Quantizes every block projection of a Llama model with a generated scheme: round-to-nearest, or GPTQ calibrated
/// on token sequences block by block. <see cref="Capture"/> gives the float model's statistics for analysis.
/// </summary>
public static class LlamaQuantizer
{
    /// <summary>Runs the float model over <paramref name="sequences"/> and returns each projection's statistics (mean
    /// |x|, the first inputs, and XᵀX when <paramref name="hessian"/> is set).</summary>
    public static Dictionary<string, CapturingLinear> Capture(LlamaWeights weights, IEnumerable<IReadOnlyList<int>> sequences, bool hessian = false)
    {
        ArgumentNullException.ThrowIfNull(weights);
        ArgumentNullException.ThrowIfNull(sequences);
        var captures = new Dictionary<string, CapturingLinear>(StringComparer.Ordinal);
        using var model = LlamaModel.Create(weights, (name, w, rows, cols) => captures[name] = new CapturingLinear(new DenseLinear(w, rows, cols), hessian));
        foreach (var sequence in sequences)
        {
            for (int pos = 0; pos < sequence.Count && pos < weights.Config.SeqLen; pos++)
            {
                model.RunBlocks(sequence[pos], pos); // the classifier's output is no projection's input
            }
        }

        return captures;
    }

    /// <summary>Round-to-nearest weights (K-padded) of every block projection, by name.</summary>
    public static Dictionary<string, QuantizedMatrix<TScheme>> Rtn<TScheme>(LlamaWeights weights)
        where TScheme : struct, IQuantScheme
    {
        ArgumentNullException.ThrowIfNull(weights);
        var result = new Dictionary<string, QuantizedMatrix<TScheme>>(StringComparer.Ordinal);
        using var walk = LlamaModel.Create(weights, (name, w, rows, cols) =>
        {
            result[name] = QuantizedMatrix<TScheme>.Quantize(Pad<TScheme>(w.Span, rows, cols), rows, QuantizedLinear<TScheme>.PaddedCols(TScheme.Info, cols));
            return new DenseLinear(w, rows, cols);
        });
        return result;
    }

    /// <summary>Round-to-nearest with a per-group clipping search (<see cref="ClipSearch"/>), K-padded, by name.</summary>
    public static Dictionary<string, QuantizedMatrix<TScheme>> RtnClipped<TScheme>(LlamaWeights weights)
        where TScheme : struct, IQuantScheme
    {
        ArgumentNullException.ThrowIfNull(weights);
        var result = new Dictionary<string, QuantizedMatrix<TScheme>>(StringComparer.Ordinal);
        using var walk = LlamaModel.Create(weights, (name, w, rows, cols) =>
        {
            result[name] = ClipSearch.Quantize<TScheme>(Pad<TScheme>(w.Span, rows, cols), rows, QuantizedLinear<TScheme>.PaddedCols(TScheme.Info, cols));
            return new DenseLinear(w, rows, cols);
        });
        return result;
    }

    /// <summary>
    /// GPTQ weights (K-padded) of every block projection, block by block: block b's statistics are captured with
    /// blocks 0…b−1 already quantized, so each block compensates the error of those before it (Frantar et al.).
    /// </summary>
    public static Dictionary<string, QuantizedMatrix<TScheme>> Gptq<TScheme>(LlamaWeights weights, IReadOnlyList<IReadOnlyList<int>> calibration, GptqOptions? options = null)
        where TScheme : struct, IQuantScheme
    {
        ArgumentNullException.ThrowIfNull(weights);
        ArgumentNullException.ThrowIfNull(calibration);
        if (calibration.Count == 0)
        {
            throw new ArgumentException("GPTQ needs at least one calibration sequence.", nameof(calibration));
        }

        var result = new Dictionary<string, QuantizedMatrix<TScheme>>(StringComparer.Ordinal);
        for (int block = 0; block < weights.Config.Layers; block++)
        {
            string prefix = $"blk.{block}.";
            var captures = new Dictionary<string, CapturingLinear>(StringComparer.Ordinal);
            var shapes = new Dictionary<string, (ReadOnlyMemory<float> W, int Rows, int Cols)>(StringComparer.Ordinal);
            using (var model = LlamaModel.Create(UpToBlock(weights, block), (name, w, rows, cols) =>
            {
                if (result.TryGetValue(name, out var done))
                {
                    return Dequantized(done, rows, cols);
                }

                var dense = new DenseLinear(w, rows, cols);
                if (!name.StartsWith(prefix, StringComparison.Ordinal))
                {
                    return dense;
                }

                shapes[name] = (w, rows, cols);
                return captures[name] = new CapturingLinear(dense);
            }))
            {
                foreach (var sequence in calibration)
                {
                    for (int pos = 0; pos < sequence.Count && pos < weights.Config.SeqLen; pos++)
                    {
                        model.RunBlocks(sequence[pos], pos);
                    }
                }
            }

            foreach (var (name, (w, rows, cols)) in shapes)
            {
                int padded = QuantizedLinear<TScheme>.PaddedCols(TScheme.Info, cols);
                var hessian = new double[(long)padded * padded]; // padded inputs are always 0: dead columns to GPTQ
                var capture = captures[name];
                for (int i = 0; i < cols; i++)
                {
                    capture.Hessian.AsSpan(i * cols, cols).CopyTo(hessian.AsSpan(i * padded, cols));
                }

                result[name] = Quantization.Gptq.Quantize<TScheme>(Pad<TScheme>(w.Span, rows, cols), rows, padded, hessian, options);
            }
        }

        return result;
    }

    /// <summary>
    /// AWQ as the paper deploys it: the input scales are folded into the graph, so the result is an ordinary model
    /// (<see cref="AwqModel{TScheme}.Folded"/>, the same function as <paramref name="weights"/> in exact arithmetic)
    /// whose projections are quantized. Block by block (each block's inputs captured from the model whose earlier
    /// blocks are already folded and quantized), four scale groups:
    /// attention RMSNorm → q, k, v (one shared s, folded into the norm's gain); v → attention output (s tied across
    /// the query heads that share a kv head, folded into v's rows, since attention is linear in v); FFN RMSNorm →
    /// gate, up (shared, into the gain); up → down (into up's rows, since silu(gate)·up is linear in up). As in the
    /// reference, α for q/k/v is scored by the attention output's error and α for gate/up by the FFN output's (the
    /// working model run with those layers quantized over the first <see cref="CapturingLinear.SampleCapacity"/>
    /// calibration tokens); the single-layer groups by their own output error. Then each quantized projection gets
    /// AWQ's per-group clip search unless <paramref name="clipSearch"/> is false.
    /// </summary>
    /// <param name="weights">The float model.</param>
    /// <param name="calibration">Token sequences (each starting with BOS).</param>
    /// <param name="clipSearch">AWQ's output-aware clip search after scaling; false keeps min–max ranges.</param>
    /// <param name="quantize">Which projections (by name, e.g. "blk.0.ffn_down") get quantized; all when null. A
    /// scale group whose layers are none of them is left unscaled.</param>
    /// <param name="grid">α values (default <see cref="Quantization.Awq.Grid"/>); {0} without
    /// <paramref name="weightAware"/> gives plain RTN.</param>
    /// <param name="weightAware">Also try AutoAWQ's weight-aware scales s_x^α / s_w^(1−α) for each α and keep the
    /// form that scores lower (<see cref="Quantization.Awq.Scales"/>).</param>
    public static AwqModel<TScheme> Awq<TScheme>(LlamaWeights weights, IEnumerable<IReadOnlyList<int>> calibration, bool clipSearch = true, Func<string, bool>? quantize = null, double[]? grid = null, bool weightAware = true)
        where TScheme : struct, IQuantScheme
    {
        ArgumentNullException.ThrowIfNull(weights);
        ArgumentNullException.ThrowIfNull(calibration);
        quantize ??= _ => true;
        var sequences = calibration.ToList();
        var c = weights.Config;
        int d = c.Dim, h = c.HiddenDim;
        var scales = new AwqScales(new float[]?[c.Layers], new float[]?[c.Layers], new float[]?[c.Layers], new float[]?[c.Layers]);
        var alphas = new Dictionary<string, double>(StringComparer.Ordinal);
        var result = new Dictionary<string, QuantizedMatrix<TScheme>>(StringComparer.Ordinal);
        var dequantized = new Dictionary<string, float[]>(StringComparer.Ordinal);

        // Layer by layer, each seeing the outputs of the layers already quantized: the working model is the float
        // model with the earlier layers' scales folded in and their projections replaced by what they quantized to.
        LlamaWeights working = weights;
        LlamaWeights workingBlocks = weights; // the working model of blocks 0…l only (calibration of block l needs no later one)
        Dictionary<string, CapturingLinear> captures = new(StringComparer.Ordinal);

        // One group: s searched on the working weights of its quantized consumers (null when none is quantized).
        float[]? Search(string[] consumers, int cols, Func<double[], double[]>? tie, string? inspect = null)
        {
            var quantized = consumers.Where(quantize).ToArray();
            if (quantized.Length == 0)
            {
                return null;
            }

            var capture = captures[quantized[0]];
            if (capture.SampleCount == 0)
            {
                throw new ArgumentException($"No calibration inputs reached {quantized[0]}.", nameof(calibration));
            }

            // Searched K-padded (whole groups); padded channels have neutral means and zero weights and inputs.
            int padded = QuantizedLinear<TScheme>.PaddedCols(TScheme.Info, cols);
            var (mean, sample) = AwqStatistics(capture, cols, padded);
            if (tie is not null)
            {
                mean = tie(mean);
            }

            var layers = quantized.Select(name =>
            {
                int rows = working.Projection(name).Length / cols;
                return (Pad<TScheme>(working.Projection(name).Span, rows, cols), rows);
            }).ToList();
            var weightMeans = weightAware ? Quantization.Awq.WeightMeans<TScheme>(layers, padded) : null;
            if (tie is not null && weightMeans is not null)
            {
                weightMeans = tie(weightMeans);
            }

            var (s, alpha, _) = inspect is null
                ? Quantization.Awq.SearchScales<TScheme>(layers, padded, mean, sample, capture.SampleCount, grid, weightMeans, clipSearch)
                : Quantization.Awq.SearchScales<TScheme>(layers, padded, mean, effective => ModuleError(workingBlocks, sequences, quantized, effective, inspect, captures[inspect]), grid, weightMeans, clipSearch ? sample : default, clipSearch ? capture.SampleCount : 0);
            foreach (var name in consumers)
            {
                alphas[name] = alpha;
            }

            return s.AsSpan(0, cols).ToArray();
        }

        for (int l = 0; l < c.Layers; l++)
        {
            working = Fold(weights, scales);
            foreach (var (name, values) in dequantized)
            {
                values.CopyTo(System.Runtime.InteropServices.MemoryMarshal.AsMemory(working.Projection(name)).Span);
            }

            workingBlocks = UpToBlock(working, l);
            captures = Capture(workingBlocks, sequences);
            string p = $"blk.{l}.";
            scales.Attention[l] = Search([p + "attn_q", p + "attn_k", p + "attn_v"], d, null, p + "attn_output");
            scales.AttentionOutput[l] = Search([p + "attn_output"], d, mean => TieToKvRows(mean, d, c));
            scales.Ffn[l] = Search([p + "ffn_gate", p + "ffn_up"], d, null, p + "ffn_down");
            scales.FfnDown[l] = Search([p + "ffn_down"], h, null);

            // This layer's projections, folded with its scales, quantized with the clip search on the inputs they see
            // in the working model (divided by s, as the folded layer sees them).
            var foldedLayer = Fold(weights, scales);
            foreach (var kind in new[] { "attn_q", "attn_k", "attn_v", "attn_output", "ffn_gate", "ffn_down", "ffn_up" })
            {
                string name = p + kind;
                if (!quantize(name))
                {
                    continue;
                }

                var w = foldedLayer.Projection(name);
                int cols = captures[name].InFeatures, rows = w.Length / cols;
                int padded = QuantizedLinear<TScheme>.PaddedCols(TScheme.Info, cols);
                var (_, sample) = AwqStatistics(captures[name], cols, padded);
                var matrix = Quantization.Awq.QuantizeScaledWeights<TScheme>(Pad<TScheme>(w.Span, rows, cols), rows, padded, scales.InputScales(name), sample, captures[name].SampleCount, clipSearch);
                result[name] = matrix;
                dequantized[name] = TrimColumns(matrix.Dequantize(), rows, cols);
            }
        }

        var folded = Fold(weights, scales);
        return new AwqModel<TScheme>(folded, result, scales, alphas);
    }

    /// <summary>
    /// AWQ's module loss for layers that feed one module (q, k, v → attention; gate, up → the FFN): the float model
    /// with <paramref name="names"/> replaced by their <paramref name="effective"/> weights (K-padded) runs the
    /// calibration tokens that <paramref name="reference"/> recorded, and the loss is Σ‖W·(z − z_float)‖² over the
    /// inputs z of the module's output projection <paramref name="inspect"/> (W its weights), i.e. the module's output
    /// error.
    /// </summary>
    private static double ModuleError(LlamaWeights weights, IReadOnlyList<IReadOnlyList<int>> sequences, string[] names, float[][] effective, string inspect, CapturingLinear reference)
    {
        CapturingLinear? probe = null;
        using (var model = LlamaModel.Create(weights, (name, w, rows, cols) =>
        {
            int i = Array.IndexOf(names, name);
            ILinearLayer layer = i >= 0 ? new DenseLinear(TrimColumns(effective[i], rows, cols), rows, cols) : new DenseLinear(w, rows, cols);
            return name == inspect ? probe = new CapturingLinear(layer, hessian: false) : layer;
        }))
        {
            int budget = reference.SampleCount;
            foreach (var sequence in sequences)
            {
                for (int pos = 0; pos < sequence.Count && pos < weights.Config.SeqLen && budget > 0; pos++, budget--)
                {
                    model.RunBlocks(sequence[pos], pos);
                }
            }
        }

        var w = weights.Projection(inspect).Span;
        int cols = reference.InFeatures, rows = w.Length / cols;
        var diff = new float[cols];
        double total = 0;
        for (int t = 0; t < reference.SampleCount; t++)
        {
            for (int c = 0; c < cols; c++)
            {
                diff[c] = probe!.SampleRows[(t * cols) + c] - reference.SampleRows[(t * cols) + c];
            }

            for (int r = 0; r < rows; r++)
            {
                double e = VectorMath.Dot(w.Slice(r * cols, cols), diff);
                total += e * e;
            }
        }

        return total;
    }

    /// <summary>The model of blocks 0…<paramref name="block"/> (the same arrays, fewer layers): calibration of block b
    /// needs no block after it.</summary>
    private static LlamaWeights UpToBlock(LlamaWeights weights, int block)
        => weights with { Config = weights.Config with { Layers = block + 1 } };

    /// <summary>
    /// The float model with AWQ's <paramref name="scales"/> folded in: each group's consumers get their columns
    /// multiplied by s and its producer (norm gain, v or up rows) divided by it. The same function as
    /// <paramref name="weights"/> in exact arithmetic; what an AWQ file holds in float.
    /// </summary>
    public static LlamaWeights Fold(LlamaWeights weights, AwqScales scales)
    {
        ArgumentNullException.ThrowIfNull(weights);
        ArgumentNullException.ThrowIfNull(scales);
        var c = weights.Config;
        int d = c.Dim, kv = c.KvDim, h = c.HiddenDim;
        if (scales.Attention.Length != c.Layers || scales.AttentionOutput.Length != c.Layers || scales.Ffn.Length != c.Layers || scales.FfnDown.Length != c.Layers)
        {
            throw new ArgumentException($"AWQ scales for {scales.Attention.Length} layers do not fit a {c.Layers}-layer model.", nameof(scales));
        }

        var folded = weights with
        {
            RmsAttention = (float[])weights.RmsAttention.Clone(),
            RmsFfn = (float[])weights.RmsFfn.Clone(),
            Wq = (float[])weights.Wq.Clone(),
            Wk = (float[])weights.Wk.Clone(),
            Wv = (float[])weights.Wv.Clone(),
            Wo = (float[])weights.Wo.Clone(),
            W1 = (float[])weights.W1.Clone(),
            W2 = (float[])weights.W2.Clone(),
            W3 = (float[])weights.W3.Clone(),
        };

        void Columns(string name, float[] s)
        {
            var w = MemoryMarshal.AsMemory(folded.Projection(name)).Span;
            if (w.Length % s.Length != 0)
            {
                throw new ArgumentException($"AWQ scales of {s.Length} channels do not fit {name}.", nameof(scales));
            }

            for (int i = 0; i < w.Length; i++)
            {
                w[i] *= s[i % s.Length];
            }
        }

        void Rows(Span<float> w, int cols, int row, float s)
        {
            var r = w.Slice(row * cols, cols);
            for (int i = 0; i < cols; i++)
            {
                r[i] /= s;
            }
        }

        for (int l = 0; l < c.Layers; l++)
        {
            string p = $"blk.{l}.";
            if (scales.Attention[l] is { } sa)
            {
                Divide(folded.RmsAttention.AsSpan(l * d, d), Check(sa, d));
                Columns(p + "attn_q", sa);
                Columns(p + "attn_k", sa);
                Columns(p + "attn_v", sa);
            }

            if (scales.AttentionOutput[l] is { } so)
            {
                Columns(p + "attn_output", Check(so, d));
                var wv = folded.Wv.AsSpan(l * kv * d, kv * d);
                int group = c.Heads / c.KvHeads;
                for (int i = 0; i < d; i++)
                {
                    // Channel i's v row is shared with the same channel of the other query heads of its group.
                    int head = i / c.HeadSize, first = ((head - (head % group)) * c.HeadSize) + (i % c.HeadSize);
                    if (i == first)
                    {
                        Rows(wv, d, VRow(c, i), so[i]);
                    }
                    else if (so[i] != so[first])
                    {
                        throw new ArgumentException($"AWQ scales for {p}attn_output differ between query heads that share kv head {head / group}: they cannot be folded into v.", nameof(scales));
                    }
                }
            }

            if (scales.Ffn[l] is { } sf)
            {
                Divide(folded.RmsFfn.AsSpan(l * d, d), Check(sf, d));
                Columns(p + "ffn_gate", sf);
                Columns(p + "ffn_up", sf);
            }

            if (scales.FfnDown[l] is { } sd)
            {
                Columns(p + "ffn_down", Check(sd, h));
                var w3 = folded.W3.AsSpan(l * h * d, h * d);
                for (int r = 0; r < h; r++)
                {
                    Rows(w3, d, r, sd[r]);
                }
            }
        }

        return folded;
    }

    private static float[] Check(float[] s, int channels)
        => s.Length == channels && s.All(v => v > 0 && float.IsFinite(v)) ? s
            : throw new ArgumentException($"AWQ scales must be {channels} positive finite values; got {s.Length}.", nameof(s));

    /// <summary>The v row that attention-output input channel <paramref name="i"/> reads: query head i / headSize
    /// reads kv head (i / headSize) / (heads / kvHeads).</summary>
    private static int VRow(LlamaConfig c, int i) => (i / c.HeadSize / (c.Heads / c.KvHeads) * c.HeadSize) + (i % c.HeadSize);

    /// <summary>Channel means averaged over the channels that read the same v row (query heads sharing a kv head), so
    /// that AWQ gives them one scale and it can be folded into that row.</summary>
    private static double[] TieToKvRows(double[] mean, int channels, LlamaConfig c)
    {
        var sum = new double[c.KvDim];
        var count = new int[c.KvDim];
        for (int i = 0; i < channels; i++)
        {
            sum[VRow(c, i)] += mean[i];
            count[VRow(c, i)]++;
        }

        var tied = (double[])mean.Clone(); // K-padding channels stay as they are
        for (int i = 0; i < channels; i++)
        {
            tied[i] = sum[VRow(c, i)] / count[VRow(c, i)];
        }

        return tied;
    }

    private static void Divide(Span<float> values, ReadOnlySpan<float> by)
    {
        for (int i = 0; i < values.Length; i++)
        {
            values[i] /= by[i];
        }
    }

    /// <summary>AWQ's inputs from a capture, K-padded: mean |x| per channel (padded channels get a neutral 1: their
    /// inputs are always 0) and the sample rows.</summary>
    internal static (double[] Mean, float[] Sample) AwqStatistics(CapturingLinear capture, int cols, int padded)
    {
        var mean = new double[padded];
        var sample = new float[capture.SampleCount * padded];
        for (int c = 0; c < padded; c++)
        {
            mean[c] = c < cols ? capture.MeanAbsolute[c] / capture.Samples : 1.0;
        }

        for (int r = 0; r < capture.SampleCount; r++)
        {
            capture.SampleRows.AsSpan(r * cols, cols).CopyTo(sample.AsSpan(r * padded, cols));
        }

        return (mean, sample);
    }

    internal static float[] Pad<TScheme>(ReadOnlySpan<float> w, int rows, int cols)
        where TScheme : struct, IQuantScheme
    {
        int padded = QuantizedLinear<TScheme>.PaddedCols(TScheme.Info, cols);
        var matrix = new float[(long)rows * padded];
        for (int r = 0; r < rows; r++)
        {
            w.Slice(r * cols, cols).CopyTo(matrix.AsSpan(r * padded, cols));
        }

        return matrix;
    }

    private static DenseLinear Dequantized<TScheme>(QuantizedMatrix<TScheme> matrix, int rows, int cols)
        where TScheme : struct, IQuantScheme
        => Trimmed(matrix.Dequantize(), matrix.Cols, rows, cols);

    /// <summary>A dense layer over the first <paramref name="cols"/> of each <paramref name="padded"/>-wide row.</summary>
    internal static DenseLinear Trimmed(float[] full, int padded, int rows, int cols)
        => new(TrimColumns(full, rows, cols), rows, cols);

    /// <summary>The first <paramref name="cols"/> of each row of a K-padded row-major matrix of
    /// <paramref name="rows"/> rows (the padding the quantizers add so K fills whole groups).</summary>
    public static float[] TrimColumns(float[] full, int rows, int cols)
    {
        ArgumentNullException.ThrowIfNull(full);
        int padded = full.Length / rows;
        var trimmed = new float[(long)rows * cols];
        for (int r = 0; r < rows; r++)
        {
            full.AsSpan(r * padded, cols).CopyTo(trimmed.AsSpan(r * cols, cols));
        }

        return trimmed;
    }

    /// <summary>A model whose projections run <paramref name="quantized"/> on <paramref name="device"/>.</summary>
    public static LlamaModel OnDevice<TScheme>(LlamaWeights weights, IReadOnlyDictionary<string, QuantizedMatrix<TScheme>> quantized, ComputeDevice device)
        where TScheme : struct, IQuantScheme
        => LlamaModel.Create(weights, (name, _, _, cols) => new QuantizedLinear<TScheme>(device, quantized[name], cols));

    /// <summary>A model whose projections are the dequantized weights, float32 on the host: the same numbers as on a
    /// device, without simulated threads, for evaluating quantization error quickly.</summary>
    public static LlamaModel Dequantized<TScheme>(LlamaWeights weights, IReadOnlyDictionary<string, QuantizedMatrix<TScheme>> quantized)
        where TScheme : struct, IQuantScheme
        => LlamaModel.Create(weights, (name, _, rows, cols) => Dequantized(quantized[name], rows, cols));
}
