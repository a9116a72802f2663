using System;
using System.Collections.Generic;
using KernelGen.Backends;
using KernelGen.Layers;
using Microsoft.ML.Tokenizers;

namespace KernelGen.Models;

/// <summary>
/// A BERT-family sentence encoder (as sentence-transformers' all-MiniLM-L6-v2): embeddings (word + position +
/// token type 0) → LayerNorm → blocks of bidirectional multi-head attention with a padding mask, residual,
/// LayerNorm, GELU (erf) FFN, residual, LayerNorm → mean pooling over real tokens → L2 normalization. Every
/// projection is an <see cref="ILinearLayer"/>: dense float32, or quantized with any generated scheme on any device.
/// </summary>
public sealed class BertModel : IDisposable
{
    private readonly BertWeights weights;
    private readonly BertTokenizer tokenizer;
    private readonly ILinearLayer[] query, key, value, attentionOutput, intermediate, output;

    /// <summary>Builds one projection: its name ("layer.{l}.query|key|value|attention_output|intermediate|output"),
    /// weights (out · in, row-major), out and in features.</summary>
    public delegate ILinearLayer LinearFactory(string name, float[] weights, int outFeatures, int inFeatures);

    private BertModel(BertWeights weights, BertTokenizer tokenizer, LinearFactory linear)
    {
        this.weights = weights;
        this.tokenizer = tokenizer;
        Config = weights.Config;
        int n = Config.Layers, h = Config.Hidden, i = Config.Intermediate;
        query = new ILinearLayer[n];
        key = new ILinearLayer[n];
        value = new ILinearLayer[n];
        attentionOutput = new ILinearLayer[n];
        intermediate = new ILinearLayer[n];
        output = new ILinearLayer[n];
        for (int l = 0; l < n; l++)
        {
            var b = weights.Layers[l];
            query[l] = linear($"layer.{l}.query", b.Query, h, h);
            key[l] = linear($"layer.{l}.key", b.Key, h, h);
            value[l] = linear($"layer.{l}.value", b.Value, h, h);
            attentionOutput[l] = linear($"layer.{l}.attention_output", b.AttentionOutput, h, h);
            intermediate[l] = linear($"layer.{l}.intermediate", b.Intermediate, i, h);
            output[l] = linear($"layer.{l}.output", b.Output, h, i);
        }
    }

    /// <summary>The encoder's shape.</summary>
    public BertConfig Config { get; }

    /// <summary>A BERT WordPiece tokenizer for an uncased vocabulary (lower-cased, accents stripped).</summary>
    public static BertTokenizer CreateUncasedTokenizer(System.IO.Stream vocabulary)
        => BertTokenizer.Create(vocabulary, new BertOptions { LowerCaseBeforeTokenization = true, RemoveNonSpacingMarks = true });

    /// <summary>Every projection built by <paramref name="factory"/>: for calibration capture and calibrated quantizers.</summary>
    public static BertModel Create(BertWeights weights, BertTokenizer tokenizer, LinearFactory factory)
    {
        ArgumentNullException.ThrowIfNull(weights);
        ArgumentNullException.ThrowIfNull(tokenizer);
        ArgumentNullException.ThrowIfNull(factory);
        return new BertModel(weights, tokenizer, factory);
    }

    /// <summary>The tokenizer the model encodes text with.</summary>
    public BertTokenizer Tokenizer => tokenizer;

    /// <summary>All projections float32 on the host.</summary>
    public static BertModel CreateDense(BertWeights weights, BertTokenizer tokenizer)
    {
        ArgumentNullException.ThrowIfNull(weights);
        ArgumentNullException.ThrowIfNull(tokenizer);
        return new BertModel(weights, tokenizer, static (_, w, rows, cols) => new DenseLinear(w, rows, cols));
    }

    /// <summary>Every projection quantized with <typeparamref name="TScheme"/> and run on <paramref name="device"/>.</summary>
    public static BertModel CreateQuantized<TScheme>(BertWeights weights, BertTokenizer tokenizer, ComputeDevice device)
        where TScheme : struct, IQuantScheme
    {
        ArgumentNullException.ThrowIfNull(weights);
        ArgumentNullException.ThrowIfNull(tokenizer);
        ArgumentNullException.ThrowIfNull(device);
        return new BertModel(weights, tokenizer, (_, w, rows, cols) => new QuantizedLinear<TScheme>(device, w, rows, cols));
    }

    /// <summary>Normalized sentence embeddings, one per text; texts are padded to the longest and masked.</summary>
    public float[][] Embed(IReadOnlyList<string> texts)
    {
        ArgumentNullException.ThrowIfNull(texts);
        var ids = new List<int[]>(texts.Count);
        int longest = 0;
        foreach (var text in texts)
        {
            var tokens = tokenizer.EncodeToIds(text ?? string.Empty);
            if (tokens.Count > Config.MaxPositions)
            {
                throw new ArgumentException($"A text of {tokens.Count} tokens exceeds the encoder's {Config.MaxPositions} positions: split it.", nameof(texts));
            }

            ids.Add([.. tokens]);
            longest = Math.Max(longest, tokens.Count);
        }

        var result = new float[texts.Count][];
        for (int s = 0; s < texts.Count; s++)
        {
            // Pad to the batch's longest input; padded positions are masked out of attention and pooling.
            var padded = new int[longest];
            ids[s].CopyTo(padded, 0);
            result[s] = Encode(padded, ids[s].Length);
        }

        return result;
    }

    /// <summary>Runs the encoder over <paramref name="ids"/> of which the first <paramref name="length"/> are real
    /// and returns the mean-pooled, L2-normalized embedding.</summary>
    public float[] Encode(int[] ids, int length)
    {
        ArgumentNullException.ThrowIfNull(ids);
        int n = ids.Length, h = Config.Hidden, heads = Config.Heads, hs = Config.HeadSize;
        if (length <= 0 || length > n || n > Config.MaxPositions)
        {
            throw new ArgumentOutOfRangeException(nameof(length), length, $"{length} real tokens of {n} (at most {Config.MaxPositions}).");
        }

        var x = new float[n * h];
        for (int t = 0; t < n; t++)
        {
            int id = ids[t];
            if ((uint)id >= (uint)Config.VocabSize)
            {
                throw new ArgumentOutOfRangeException(nameof(ids), id, $"Token ids run from 0 to {Config.VocabSize - 1}.");
            }

            for (int i = 0; i < h; i++)
            {
                x[(t * h) + i] = weights.WordEmbeddings[(id * h) + i] + weights.PositionEmbeddings[(t * h) + i] + weights.TokenTypeEmbeddings[i];
            }
        }

        LayerNorm(x, n, weights.EmbeddingNormGain, weights.EmbeddingNormBias);

        var q = new float[n * h];
        var k = new float[n * h];
        var v = new float[n * h];
        var context = new float[n * h];
        var projected = new float[n * h];
        var hidden = new float[n * Config.Intermediate];
        float scale = 1f / MathF.Sqrt(hs);
        for (int l = 0; l < Config.Layers; l++)
        {
            var b = weights.Layers[l];
            Project(query[l], x, q, b.QueryBias, n);
            Project(key[l], x, k, b.KeyBias, n);
            Project(value[l], x, v, b.ValueBias, n);

            // Bidirectional attention; keys past `length` are padding and get no weight. Heads write disjoint columns
            // of the context, so they run in parallel, each with its own scores.
            System.Threading.Tasks.Parallel.For(0, heads, head =>
            {
                var scores = new float[n];
                for (int t = 0; t < n; t++)
                {
                    float max = float.NegativeInfinity;
                    for (int u = 0; u < length; u++)
                    {
                        float s = 0f;
                        for (int i = 0; i < hs; i++)
                        {
                            s += q[(t * h) + (head * hs) + i] * k[(u * h) + (head * hs) + i];
                        }

                        scores[u] = s * scale;
                        max = MathF.Max(max, scores[u]);
                    }

                    float sum = 0f;
                    for (int u = 0; u < length; u++)
                    {
                        scores[u] = MathF.Exp(scores[u] - max);
                        sum += scores[u];
                    }

                    for (int i = 0; i < hs; i++)
                    {
                        float acc = 0f;
                        for (int u = 0; u < length; u++)
                        {
                            acc += scores[u] * v[(u * h) + (head * hs) + i];
                        }

                        context[(t * h) + (head * hs) + i] = acc / sum;
                    }
                }
            });

            Project(attentionOutput[l], context, projected, b.AttentionOutputBias, n);
            AddInPlace(x, projected);
            LayerNorm(x, n, b.AttentionNormGain, b.AttentionNormBias);

            Project(intermediate[l], x, hidden, b.IntermediateBias, n);
            for (int i = 0; i < hidden.Length; i++)
            {
                hidden[i] = Gelu(hidden[i]);
            }

            Project(output[l], hidden, projected, b.OutputBias, n);
            AddInPlace(x, projected);
            LayerNorm(x, n, b.OutputNormGain, b.OutputNormBias);
        }

        // Mean over the real tokens, then unit length.
        var pooled = new float[h];
        for (int t = 0; t < length; t++)
        {
            for (int i = 0; i < h; i++)
            {
                pooled[i] += x[(t * h) + i];
            }
        }

        double norm = 0;
        for (int i = 0; i < h; i++)
        {
            pooled[i] /= length;
            norm += pooled[i] * (double)pooled[i];
        }

        float inverse = (float)(1 / Math.Max(Math.Sqrt(norm), 1e-12));
        for (int i = 0; i < h; i++)
        {
            pooled[i] *= inverse;
        }

        return pooled;
    }

    /// <summary>GELU with the exact erf form, as BERT uses: 0.5 · x · (1 + erf(x / √2)).</summary>
    internal static float Gelu(float x) => (float)(0.5 * x * (1 + Erf(x / Math.Sqrt(2))));

    /// <summary>erf to within 1.2e-7 (Numerical Recipes' erfc Chebyshev fit), in double.</summary>
    internal static double Erf(double x)
    {
        ReadOnlySpan<double> c = [-1.26551223, 1.00002368, 0.37409196, 0.09678418, -0.18628806, 0.27886807, -1.13520398, 1.48851587, -0.82215223, 0.17087277];
        double z = Math.Abs(x);
        double t = 1 / (1 + (0.5 * z));
        double poly = c[^1];
        for (int i = c.Length - 2; i >= 0; i--)
        {
            poly = c[i] + (t * poly);
        }

        double erfc = t * Math.Exp((-z * z) + poly);
        return x >= 0 ? 1 - erfc : erfc - 1;
    }

    /// <summary>result = input·Wᵀ + bias, token by token; in parallel across tokens where the layer is a
    /// <see cref="DenseLinear"/> (stateless, so each token's row is the same whichever thread computes it). Other layers
    /// (captures, device layers) keep one call at a time.</summary>
    private static void Project(ILinearLayer layer, float[] input, float[] result, float[] bias, int rows)
    {
        int inFeatures = layer.InFeatures, outFeatures = layer.OutFeatures;
        void Token(int t)
        {
            var y = result.AsSpan(t * outFeatures, outFeatures);
            layer.Forward(input.AsSpan(t * inFeatures, inFeatures), y);
            for (int i = 0; i < outFeatures; i++)
            {
                y[i] += bias[i];
            }
        }

        if (layer is DenseLinear && rows > 1)
        {
            System.Threading.Tasks.Parallel.For(0, rows, Token);
            return;
        }

        for (int t = 0; t < rows; t++)
        {
            Token(t);
        }
    }

    private void LayerNorm(float[] x, int rows, float[] gain, float[] bias)
    {
        int h = Config.Hidden;
        for (int t = 0; t < rows; t++)
        {
            var row = x.AsSpan(t * h, h);
            double mean = 0, variance = 0;
            foreach (float v in row)
            {
                mean += v;
            }

            mean /= h;
            foreach (float v in row)
            {
                variance += (v - mean) * (v - mean);
            }

            float inverse = (float)(1 / Math.Sqrt((variance / h) + Config.LayerNormEpsilon));
            for (int i = 0; i < h; i++)
            {
                row[i] = (((float)(row[i] - mean)) * inverse * gain[i]) + bias[i];
            }
        }
    }

    private static void AddInPlace(float[] x, float[] y)
    {
        for (int i = 0; i < x.Length; i++)
        {
            x[i] += y[i];
        }
    }

    /// <inheritdoc />
    public void Dispose()
    {
        foreach (var group in new[] { query, key, value, attentionOutput, intermediate, output })
        {
            foreach (var layer in group)
            {
                layer.Dispose();
            }
        }
    }
}
