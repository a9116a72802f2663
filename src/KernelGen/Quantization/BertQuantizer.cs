using System;
using System.Collections.Generic;
using System.Linq;
using KernelGen.Layers;
using KernelGen.Models;

namespace KernelGen.Quantization;

/// <summary>
/// Round-to-nearest, GPTQ and AWQ for BERT-family encoders: every projection of every block, by the names
/// <see cref="BertModel.Create"/> gives them. Calibration is text, encoded sentence by sentence (no padding rows reach
/// the statistics). GPTQ goes block by block: block b's inputs are captured with blocks 0…b−1 already quantized.
/// Results are the effective weights (what the quantized layer multiplies by), for <see cref="Dequantized"/>.
/// </summary>
public static class BertQuantizer
{
    /// <summary>Round-to-nearest.</summary>
    public static Dictionary<string, float[]> Rtn<TScheme>(BertWeights weights, Microsoft.ML.Tokenizers.BertTokenizer tokenizer)
        where TScheme : struct, IQuantScheme
    {
        var result = new Dictionary<string, float[]>(StringComparer.Ordinal);
        using var walk = BertModel.Create(weights, tokenizer, (name, w, rows, cols) =>
        {
            result[name] = LlamaQuantizer.TrimColumns(QuantizedMatrix<TScheme>.Quantize(LlamaQuantizer.Pad<TScheme>(w, rows, cols), rows, Padded<TScheme>(cols)).Dequantize(), rows, cols);
            return new DenseLinear(w, rows, cols);
        });
        return result;
    }

    /// <summary>GPTQ, block by block, on <paramref name="calibration"/> sentences.</summary>
    public static Dictionary<string, float[]> Gptq<TScheme>(BertWeights weights, Microsoft.ML.Tokenizers.BertTokenizer tokenizer, IReadOnlyList<string> calibration, GptqOptions? options = null)
        where TScheme : struct, IQuantScheme
    {
        ArgumentNullException.ThrowIfNull(weights);
        ArgumentNullException.ThrowIfNull(calibration);
        var result = new Dictionary<string, float[]>(StringComparer.Ordinal);
        for (int block = 0; block < weights.Config.Layers; block++)
        {
            string prefix = $"layer.{block}.";
            var captures = new Dictionary<string, (CapturingLinear Capture, float[] W, int Rows, int Cols)>(StringComparer.Ordinal);

            // Blocks after this one do not change its inputs: the capture runs an encoder of blocks 0…block only.
            var upToBlock = weights with { Config = weights.Config with { Layers = block + 1 }, Layers = weights.Layers[..(block + 1)] };
            using (var model = BertModel.Create(upToBlock, tokenizer, (name, w, rows, cols) =>
            {
                if (result.TryGetValue(name, out var done))
                {
                    return new DenseLinear(done, rows, cols);
                }

                var dense = new DenseLinear(w, rows, cols);
                if (!name.StartsWith(prefix, StringComparison.Ordinal))
                {
                    return dense;
                }

                var capture = new CapturingLinear(dense);
                captures[name] = (capture, w, rows, cols);
                return capture;
            }))
            {
                Run(model, calibration);
            }

            foreach (var (name, (capture, w, rows, cols)) in captures)
            {
                int padded = Padded<TScheme>(cols);
                var hessian = new double[(long)padded * padded];
                for (int i = 0; i < cols; i++)
                {
                    capture.Hessian.AsSpan(i * cols, cols).CopyTo(hessian.AsSpan(i * padded, cols));
                }

                var q = Quantization.Gptq.Quantize<TScheme>(LlamaQuantizer.Pad<TScheme>(w, rows, cols), rows, padded, hessian, options);
                result[name] = LlamaQuantizer.TrimColumns(q.Dequantize(), rows, cols);
            }
        }

        return result;
    }

    /// <summary>AWQ (with its clip search unless <paramref name="clipSearch"/> is false) on statistics of the float model.</summary>
    public static Dictionary<string, float[]> Awq<TScheme>(BertWeights weights, Microsoft.ML.Tokenizers.BertTokenizer tokenizer, IReadOnlyList<string> calibration, bool clipSearch = true)
        where TScheme : struct, IQuantScheme
    {
        ArgumentNullException.ThrowIfNull(weights);
        ArgumentNullException.ThrowIfNull(calibration);
        var captures = new Dictionary<string, (CapturingLinear Capture, float[] W, int Rows, int Cols)>(StringComparer.Ordinal);
        using (var model = BertModel.Create(weights, tokenizer, (name, w, rows, cols) =>
        {
            var capture = new CapturingLinear(new DenseLinear(w, rows, cols), hessian: false);
            captures[name] = (capture, w, rows, cols);
            return capture;
        }))
        {
            Run(model, calibration);
        }

        var result = new Dictionary<string, float[]>(StringComparer.Ordinal);
        foreach (var (name, (capture, w, rows, cols)) in captures)
        {
            int padded = Padded<TScheme>(cols);
            var (mean, sample) = LlamaQuantizer.AwqStatistics(capture, cols, padded);

            var q = Quantization.Awq.Quantize<TScheme>(LlamaQuantizer.Pad<TScheme>(w, rows, cols), rows, padded, mean, sample, capture.SampleCount, clipSearch: clipSearch);
            result[name] = LlamaQuantizer.TrimColumns(q.EffectiveWeights(), rows, cols);
        }

        return result;
    }

    /// <summary>An encoder whose projections are <paramref name="effective"/>'s weights, float32 on the host.</summary>
    public static BertModel Dequantized(BertWeights weights, Microsoft.ML.Tokenizers.BertTokenizer tokenizer, IReadOnlyDictionary<string, float[]> effective)
    {
        ArgumentNullException.ThrowIfNull(effective);
        return BertModel.Create(weights, tokenizer, (name, _, rows, cols) => new DenseLinear(effective[name], rows, cols));
    }

    private static void Run(BertModel model, IReadOnlyList<string> calibration)
    {
        if (calibration.Count == 0)
        {
            throw new ArgumentException("Calibration needs at least one sentence.", nameof(calibration));
        }

        foreach (string sentence in calibration)
        {
            var ids = model.Tokenizer.EncodeToIds(sentence).Take(model.Config.MaxPositions).ToArray();
            model.Encode(ids, ids.Length);
        }
    }

    private static int Padded<TScheme>(int cols)
        where TScheme : struct, IQuantScheme
        => QuantizedLinear<TScheme>.PaddedCols(TScheme.Info, cols);
}
