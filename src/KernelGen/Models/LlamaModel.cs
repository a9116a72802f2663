using System;
using System.Linq;
using KernelGen.Backends;
using KernelGen.Layers;
using KernelGen.Quantization;

namespace KernelGen.Models;

/// <summary>
/// A Llama-family decoder (llama2.c's run.c, step for step): RMSNorm → attention with RoPE (adjacent pairs) and
/// grouped-query heads over a preallocated KV cache → residual → RMSNorm → SwiGLU FFN → residual; final RMSNorm and
/// classifier. Every projection is an <see cref="ILinearLayer"/>: dense float32, or quantized with any generated
/// scheme on any device. Projections that read the same input (q, k and v; gate and up) run as one stacked layer
/// where their layers allow it (<see cref="IRowStackable"/>). After construction, <see cref="Forward"/> allocates nothing.
/// </summary>
public sealed class LlamaModel : IDisposable
{
    private readonly LlamaWeights weights;
    private readonly ProjectionGroup[] qkv, gateUp; // per layer: q, k, v and gate, up, stacked where they allow it
    private readonly ILinearLayer[] wo, w2;
    private readonly ILinearLayer classifier;

    // Run state, as run.c's RunState; shapes in comments.
    private readonly float[] x;          // (dim) residual stream
    private readonly float[] xb;         // (dim) normed input / attention output
    private readonly float[] xb2;        // (dim)
    private readonly float[] hb;         // (hidden_dim)
    private readonly float[] hb2;        // (hidden_dim)
    private readonly float[] q;          // (dim)
    private readonly float[] att;        // (heads, seq_len)
    private readonly float[] logits;     // (vocab)
    private readonly float[] keyCache;   // (layer, seq_len, kv_dim)
    private readonly float[] valueCache; // (layer, seq_len, kv_dim)
    private readonly float[] ropeCos;    // (seq_len, head_size / 2)
    private readonly float[] ropeSin;    // (seq_len, head_size / 2)

    /// <summary>Builds one projection: its name (e.g. "blk.0.attn_q", "output"), weights (out · in, row-major; empty
    /// when <see cref="LlamaWeights.HasProjectionWeights"/> is false, for a factory that reads stored codes by name),
    /// out and in features.</summary>
    public delegate ILinearLayer LinearFactory(string name, ReadOnlyMemory<float> weights, int outFeatures, int inFeatures);

    private LlamaModel(LlamaWeights weights, LinearFactory factory, bool includeClassifier, bool stackProjections)
    {
        var c = weights.Config;
        c.Validate();
        this.weights = weights;
        Config = c;
        int d = c.Dim, kv = c.KvDim, h = c.HiddenDim, layers = c.Layers;
        qkv = new ProjectionGroup[layers];
        gateUp = new ProjectionGroup[layers];
        wo = new ILinearLayer[layers];
        w2 = new ILinearLayer[layers];
        ILinearLayer Make(string kind, float[] all, int layer, int rows, int cols)
            => factory($"blk.{layer}.{kind}", all.Length == 0 ? ReadOnlyMemory<float>.Empty : LlamaWeights.Layer(all, layer, rows * cols), rows, cols);

        for (int l = 0; l < layers; l++)
        {
            qkv[l] = new ProjectionGroup(new[] { Make("attn_q", weights.Wq, l, d, d), Make("attn_k", weights.Wk, l, kv, d), Make("attn_v", weights.Wv, l, kv, d) }, stackProjections);
            wo[l] = Make("attn_output", weights.Wo, l, d, d);
            gateUp[l] = new ProjectionGroup(new[] { Make("ffn_gate", weights.W1, l, h, d), Make("ffn_up", weights.W3, l, h, d) }, stackProjections);
            w2[l] = Make("ffn_down", weights.W2, l, d, h);
        }

        classifier = includeClassifier
            ? factory("output", weights.ClassifierWeights, c.VocabSize, d)
            : new DenseLinear(weights.ClassifierWeights, c.VocabSize, d);

        x = new float[d];
        xb = new float[d];
        xb2 = new float[d];
        hb = new float[h];
        hb2 = new float[h];
        q = new float[d];
        att = new float[c.Heads * c.SeqLen];
        logits = new float[c.VocabSize];
        keyCache = new float[(long)layers * c.SeqLen * kv];
        valueCache = new float[(long)layers * c.SeqLen * kv];

        // RoPE tables in float64, rounded once: freq_i = theta^(-2i / head_size).
        int half = c.HeadSize / 2;
        ropeCos = new float[c.SeqLen * half];
        ropeSin = new float[c.SeqLen * half];
        for (int pos = 0; pos < c.SeqLen; pos++)
        {
            for (int i = 0; i < half; i++)
            {
                double angle = pos * Math.Pow(c.RopeTheta, -2.0 * i / c.HeadSize);
                ropeCos[(pos * half) + i] = (float)Math.Cos(angle);
                ropeSin[(pos * half) + i] = (float)Math.Sin(angle);
            }
        }
    }

    /// <summary>The model's shape.</summary>
    public LlamaConfig Config { get; }

    /// <summary>Every block projection built by <paramref name="factory"/> (named "blk.{layer}.attn_q|attn_k|attn_v|
    /// attn_output|ffn_gate|ffn_down|ffn_up", as in GGUF); the classifier ("output") too when
    /// <paramref name="includeClassifier"/>. For calibration capture and calibrated quantizers. With
    /// <paramref name="stackProjections"/>, q, k and v (and gate and up) that the factory builds as
    /// <see cref="IRowStackable"/> layers are stacked into one layer each and the parts disposed.</summary>
    public static LlamaModel Create(LlamaWeights weights, LinearFactory factory, bool includeClassifier = false, bool stackProjections = true)
    {
        ArgumentNullException.ThrowIfNull(weights);
        ArgumentNullException.ThrowIfNull(factory);
        return new LlamaModel(weights, factory, includeClassifier, stackProjections);
    }

    /// <summary>All projections in float32 on the host: the reference the quantized models are compared with.</summary>
    public static LlamaModel CreateDense(LlamaWeights weights)
    {
        ArgumentNullException.ThrowIfNull(weights);
        RequireProjectionWeights(weights);
        return new LlamaModel(weights, static (_, w, rows, cols) => new DenseLinear(w, rows, cols), false, false);
    }

    /// <summary>Every projection of every block quantized with <typeparamref name="TScheme"/> and run on
    /// <paramref name="device"/>; the classifier too when <paramref name="quantizeClassifier"/>. q, k and v (and gate
    /// and up) run as one stacked layer each unless <paramref name="stackProjections"/> is false.</summary>
    public static LlamaModel CreateQuantized<TScheme>(LlamaWeights weights, ComputeDevice device, bool quantizeClassifier = false, bool stackProjections = true)
        where TScheme : struct, IQuantScheme
    {
        ArgumentNullException.ThrowIfNull(weights);
        ArgumentNullException.ThrowIfNull(device);
        RequireProjectionWeights(weights);
        return new LlamaModel(weights, (_, w, rows, cols) => new QuantizedLinear<TScheme>(device, w.Span, rows, cols), quantizeClassifier, stackProjections);
    }

    private static void RequireProjectionWeights(LlamaWeights weights)
    {
        if (!weights.HasProjectionWeights)
        {
            throw new ArgumentException("These weights hold no float32 block projections: they were left out at load time to run a GGUF's stored scheme codes. Build the model from the codes (LlamaModel.Create with a factory that reads GgufSchemeTensors), or load with GgufLlama.LoadWeights(file, dequantizeSchemeCodes: true).", nameof(weights));
        }
    }

    /// <summary>Runs one token at position <paramref name="pos"/> and returns the logits over the vocabulary (a view
    /// of an internal buffer, valid until the next call). Positions must be fed in order from 0.</summary>
    /// <remarks>Compiled fully optimized from the first call: the decode loop should not spend its first tokens in
    /// tier-0 code, and tier-0's on-stack replacement allocates (measured: ~4 KB mid-generation).</remarks>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
    public ReadOnlySpan<float> Forward(int token, int pos)
    {
        RunBlocks(token, pos);

        // Final RMSNorm and classifier.
        RmsNorm(x, x, weights.RmsFinal, Config.NormEpsilon);
        classifier.Forward(x, logits);
        return logits;
    }

    /// <summary>The token through the blocks only (no final norm, no classifier): what calibration needs, whose
    /// statistics are the blocks' inputs. Fills the KV cache as <see cref="Forward"/> does.</summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
    internal void RunBlocks(int token, int pos)
    {
        var c = Config;
        if ((uint)token >= (uint)c.VocabSize)
        {
            throw new ArgumentOutOfRangeException(nameof(token), token, $"Token ids run from 0 to {c.VocabSize - 1}.");
        }

        if ((uint)pos >= (uint)c.SeqLen)
        {
            throw new ArgumentOutOfRangeException(nameof(pos), pos, $"The KV cache holds {c.SeqLen} positions (0 to {c.SeqLen - 1}).");
        }

        int d = c.Dim, kvDim = c.KvDim, headSize = c.HeadSize;
        float attentionScale = 1f / MathF.Sqrt(headSize);

        // Token embedding.
        weights.TokenEmbedding.AsSpan(token * d, d).CopyTo(x);

        for (int l = 0; l < c.Layers; l++)
        {
            // Attention RMSNorm.
            RmsNorm(xb, x, weights.RmsAttention.AsSpan(l * d, d), c.NormEpsilon);

            // q, k, v projections; k and v go straight into this position's cache row.
            long cacheRow = (((long)l * c.SeqLen) + pos) * kvDim;
            var k = keyCache.AsSpan((int)cacheRow, kvDim);
            var v = valueCache.AsSpan((int)cacheRow, kvDim);
            qkv[l].Forward(xb, q, k, v);

            // RoPE: rotate each adjacent pair (2i, 2i+1) of every head by pos · freq_i.
            Rope(q, pos, headSize);
            Rope(k, pos, headSize);

            // Multi-head attention over positions 0…pos; query head h reads kv head h / groupSize.
            long layerRows = (long)l * c.SeqLen * kvDim;
            Attend(q, keyCache, valueCache, (int)layerRows, pos + 1, att, xb, c.Heads, c.KvHeads, c.SeqLen, attentionScale);

            // Output projection and residual.
            wo[l].Forward(xb, xb2);
            Add(x, xb2);

            // FFN RMSNorm, then w2(silu(w1·x) * w3·x) and residual.
            RmsNorm(xb, x, weights.RmsFfn.AsSpan(l * d, d), c.NormEpsilon);
            gateUp[l].Forward(xb, hb, hb2, Span<float>.Empty);
            for (int i = 0; i < hb.Length; i++)
            {
                float gate = hb[i];
                hb[i] = gate / (1f + MathF.Exp(-gate)) * hb2[i];
            }

            w2[l].Forward(hb, xb);
            Add(x, xb);
        }
    }

    /// <summary>Multiply-adds (positions × heads × head size) from which <see cref="Attend"/> spreads its kv heads over
    /// threads: at Llama-3-8B's 32 heads of 128, 64 positions and up.</summary>
    internal const int ParallelAttentionWork = 1 << 18;

    /// <summary>
    /// Multi-head attention of one token: for each query head h of <paramref name="q"/>, softmax(scale · q_h · k_t) over
    /// the <paramref name="positions"/> cached rows from <paramref name="cacheStart"/> of <paramref name="keys"/> (rows of
    /// kv heads × head size; query head h reads kv head h ÷ (heads ÷ kv heads)), and the values weighted by it into head h
    /// of <paramref name="output"/>. <paramref name="scores"/> holds a row of <paramref name="scoreStride"/> per head.
    /// The query heads that share a kv head are taken together, so each cached row is read once for all of them; dot
    /// products and weighted sums run in SIMD lanes (<see cref="VectorMath"/>). The kv heads run on the thread pool from
    /// <see cref="ParallelAttentionWork"/> (<paramref name="parallel"/> overrides), each writing only its own heads'
    /// scores and outputs: the result does not depend on the schedule. (At Llama-3-8B's shape the scalar loops took
    /// 3–20 µs per position and layer on an H200 machine's host, this ~1: perf/gemv.md, session 33, calls 3–4.)
    /// </summary>
    internal static void Attend(float[] q, float[] keys, float[] values, int cacheStart, int positions, float[] scores, float[] output, int heads, int kvHeads, int scoreStride, float scale, bool? parallel = null)
    {
        var work = new Attention(q, keys, values, cacheStart, positions, scores, output, heads, kvHeads, scoreStride, scale);
        if (parallel ?? ((long)positions * q.Length >= ParallelAttentionWork && Environment.ProcessorCount > 1))
        {
            OnThePool(work, kvHeads);
            return;
        }

        for (int kv = 0; kv < kvHeads; kv++)
        {
            work.Group(kv);
        }
    }

    /// <summary>The kv heads on the thread pool: its own method, so that the closure is allocated only on this path (a
    /// decode step below <see cref="ParallelAttentionWork"/> allocates nothing).</summary>
    private static void OnThePool(Attention work, int kvHeads) => System.Threading.Tasks.Parallel.For(0, kvHeads, kv => work.Group(kv));

    /// <summary>One token's attention over one layer's cache (<see cref="Attend"/>), a kv head's query heads at a time.</summary>
    private readonly struct Attention(float[] q, float[] keys, float[] values, int cacheStart, int positions, float[] scores, float[] output, int heads, int kvHeads, int scoreStride, float scale)
    {
        public void Group(int kv)
        {
            int headSize = q.Length / heads, kvDim = kvHeads * headSize, groupSize = heads / kvHeads, first = kv * groupSize;
            for (int t = 0; t < positions; t++)
            {
                var kt = keys.AsSpan(cacheStart + (t * kvDim) + (kv * headSize), headSize);
                for (int h = first; h < first + groupSize; h++)
                {
                    scores[(h * scoreStride) + t] = (float)VectorMath.Dot(q.AsSpan(h * headSize, headSize), kt) * scale;
                }
            }

            for (int h = first; h < first + groupSize; h++)
            {
                Softmax(scores.AsSpan(h * scoreStride, positions));
                output.AsSpan(h * headSize, headSize).Clear();
            }

            for (int t = 0; t < positions; t++)
            {
                var vt = values.AsSpan(cacheStart + (t * kvDim) + (kv * headSize), headSize);
                for (int h = first; h < first + groupSize; h++)
                {
                    VectorMath.AddScaled(output.AsSpan(h * headSize, headSize), scores[(h * scoreStride) + t], vt);
                }
            }
        }
    }

    private void Rope(Span<float> vector, int pos, int headSize)
    {
        int half = headSize / 2;
        var cos = ropeCos.AsSpan(pos * half, half);
        var sin = ropeSin.AsSpan(pos * half, half);
        for (int head = 0; head < vector.Length; head += headSize)
        {
            for (int i = 0; i < half; i++)
            {
                float a = vector[head + (2 * i)], b = vector[head + (2 * i) + 1];
                vector[head + (2 * i)] = (a * cos[i]) - (b * sin[i]);
                vector[head + (2 * i) + 1] = (a * sin[i]) + (b * cos[i]);
            }
        }
    }

    private static void RmsNorm(Span<float> output, ReadOnlySpan<float> input, ReadOnlySpan<float> gain, float epsilon)
    {
        float sum = 0f;
        foreach (float v in input)
        {
            sum += v * v;
        }

        float scale = 1f / MathF.Sqrt((sum / input.Length) + epsilon);
        for (int i = 0; i < input.Length; i++)
        {
            output[i] = gain[i] * (scale * input[i]);
        }
    }

    /// <summary>values ← softmax(values) in place, shifted by their maximum.</summary>
    internal static void Softmax(Span<float> values)
    {
        float max = float.NegativeInfinity;
        foreach (float v in values)
        {
            max = MathF.Max(max, v);
        }

        float sum = 0f;
        for (int i = 0; i < values.Length; i++)
        {
            values[i] = MathF.Exp(values[i] - max);
            sum += values[i];
        }

        for (int i = 0; i < values.Length; i++)
        {
            values[i] /= sum;
        }
    }

    private static void Add(Span<float> x, ReadOnlySpan<float> y)
    {
        for (int i = 0; i < x.Length; i++)
        {
            x[i] += y[i];
        }
    }

    /// <inheritdoc />
    public void Dispose()
    {
        foreach (var group in qkv.Concat(gateUp))
        {
            group.Dispose();
        }

        foreach (var layer in wo.Concat(w2))
        {
            layer.Dispose();
        }

        classifier.Dispose();
    }

    /// <summary>
    /// The projections of one layer that read the same input: q, k and v, or gate and up. One stacked layer where the
    /// first part is <see cref="IRowStackable"/> and takes the others, its output split into the parts' targets;
    /// otherwise the parts one after another.
    /// </summary>
    private sealed class ProjectionGroup : IDisposable
    {
        private readonly ILinearLayer[] parts;
        private readonly ILinearLayer? stacked;
        private readonly float[] stackedOutput = Array.Empty<float>();

        public ProjectionGroup(ILinearLayer[] parts, bool stack)
        {
            if (stack && parts[0] is IRowStackable first)
            {
                stacked = first.TryStackRows(parts.AsSpan(1));
            }

            if (stacked is null)
            {
                this.parts = parts;
                return;
            }

            foreach (var part in parts)
            {
                part.Dispose();
            }

            this.parts = Array.Empty<ILinearLayer>();
            stackedOutput = new float[stacked.OutFeatures];
        }

        /// <summary>Writes the parts' outputs to <paramref name="first"/>, <paramref name="second"/> and, for three
        /// parts, <paramref name="third"/>.</summary>
        public void Forward(ReadOnlySpan<float> x, Span<float> first, Span<float> second, Span<float> third)
        {
            if (stacked is null)
            {
                parts[0].Forward(x, first);
                parts[1].Forward(x, second);
                if (parts.Length == 3)
                {
                    parts[2].Forward(x, third);
                }

                return;
            }

            stacked.Forward(x, stackedOutput);
            ReadOnlySpan<float> all = stackedOutput;
            all[..first.Length].CopyTo(first);
            all.Slice(first.Length, second.Length).CopyTo(second);
            all[(first.Length + second.Length)..].CopyTo(third);
        }

        public void Dispose()
        {
            stacked?.Dispose();
            foreach (var part in parts)
            {
                part.Dispose();
            }
        }
    }
}
