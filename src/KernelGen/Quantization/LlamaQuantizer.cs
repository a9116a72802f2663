using System;
using System.Collections.Generic;
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
    /// <summary>Runs the float model over <paramref name="sequences"/> and returns each projection's statistics.</summary>
    public static Dictionary<string, CapturingLinear> Capture(LlamaWeights weights, IEnumerable<IReadOnlyList<int>> sequences)
    {
        ArgumentNullException.ThrowIfNull(weights);
        ArgumentNullException.ThrowIfNull(sequences);
        var captures = new Dictionary<string, CapturingLinear>(StringComparer.Ordinal);
        using var model = LlamaModel.Create(weights, (name, w, rows, cols) => captures[name] = new CapturingLinear(new DenseLinear(w, rows, cols)));
        foreach (var sequence in sequences)
        {
            for (int pos = 0; pos < sequence.Count && pos < weights.Config.SeqLen; pos++)
            {
                model.Forward(sequence[pos], pos);
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
            using (var model = LlamaModel.Create(weights, (name, w, rows, cols) =>
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
                        model.Forward(sequence[pos], pos);
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
    /// AWQ weights of every block projection (statistics and token samples from the float model over
    /// <paramref name="calibration"/>), with AWQ's per-group clip search unless <paramref name="clipSearch"/> is false.
    /// Padded input channels get a neutral mean |x| of 1: their inputs are always 0.
    /// </summary>
    public static Dictionary<string, AwqResult<TScheme>> Awq<TScheme>(LlamaWeights weights, IEnumerable<IReadOnlyList<int>> calibration, bool clipSearch = true)
        where TScheme : struct, IQuantScheme
    {
        var captures = Capture(weights, calibration);
        var result = new Dictionary<string, AwqResult<TScheme>>(StringComparer.Ordinal);
        using var walk = LlamaModel.Create(weights, (name, w, rows, cols) =>
        {
            var capture = captures[name];
            if (capture.SampleCount == 0)
            {
                throw new ArgumentException($"No calibration inputs reached {name}.", nameof(calibration));
            }

            int padded = QuantizedLinear<TScheme>.PaddedCols(TScheme.Info, cols);
            var (mean, sample) = AwqStatistics(capture, cols, padded);
            result[name] = Quantization.Awq.Quantize<TScheme>(Pad<TScheme>(w.Span, rows, cols), rows, padded, mean, sample, capture.SampleCount, clipSearch: clipSearch);
            return new DenseLinear(w, rows, cols);
        });
        return result;
    }

    /// <summary>A model whose projections are AWQ's effective weights Q(W·diag(s))·diag(s)⁻¹, float32 on the host.</summary>
    public static LlamaModel Dequantized<TScheme>(LlamaWeights weights, IReadOnlyDictionary<string, AwqResult<TScheme>> quantized)
        where TScheme : struct, IQuantScheme
        => LlamaModel.Create(weights, (name, _, rows, cols) => Trimmed(quantized[name].EffectiveWeights(), quantized[name].Scaled.Cols, rows, cols));

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
