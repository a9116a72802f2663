using System;

namespace KernelGen.Models;

/// <summary>Full-precision weights of a Llama-family decoder, every matrix row-major [out][in] per layer.</summary>
/// <remarks>A block projection's array (<see cref="Wq"/> to <see cref="W3"/>) may be empty: a GGUF whose codes are to run
/// as stored loads without their float32 copy (<see cref="Formats.Gguf.GgufLlama.LoadWeights"/>); see
/// <see cref="HasProjectionWeights"/>.</remarks>
public sealed record LlamaWeights
{
    /// <summary>Model shape.</summary>
    public required LlamaConfig Config { get; init; }

    /// <summary>(vocab, dim)</summary>
    public required float[] TokenEmbedding { get; init; }

    /// <summary>(layer, dim)</summary>
    public required float[] RmsAttention { get; init; }

    /// <summary>(layer, dim, dim)</summary>
    public required float[] Wq { get; init; }

    /// <summary>(layer, kv_dim, dim)</summary>
    public required float[] Wk { get; init; }

    /// <summary>(layer, kv_dim, dim)</summary>
    public required float[] Wv { get; init; }

    /// <summary>(layer, dim, dim)</summary>
    public required float[] Wo { get; init; }

    /// <summary>(layer, dim)</summary>
    public required float[] RmsFfn { get; init; }

    /// <summary>(layer, hidden_dim, dim): gate.</summary>
    public required float[] W1 { get; init; }

    /// <summary>(layer, dim, hidden_dim): down.</summary>
    public required float[] W2 { get; init; }

    /// <summary>(layer, hidden_dim, dim): up.</summary>
    public required float[] W3 { get; init; }

    /// <summary>(dim)</summary>
    public required float[] RmsFinal { get; init; }

    /// <summary>(vocab, dim), or empty when the classifier is the token embedding.</summary>
    public float[] Classifier { get; init; } = Array.Empty<float>();

    /// <summary>Whether the block projections' float32 weights are here. False when they were left out at load time, to
    /// be built from codes stored elsewhere (<see cref="LlamaModel.Create"/> then passes their factory empty weights).</summary>
    public bool HasProjectionWeights => Wq.Length != 0 && Wk.Length != 0 && Wv.Length != 0 && Wo.Length != 0 && W1.Length != 0 && W2.Length != 0 && W3.Length != 0;

    /// <summary>
    /// Weights of <paramref name="config"/>'s shapes drawn uniformly from a generator seeded with <paramref name="seed"/>:
    /// projections in ±0.02 (the scale of trained Llama weights), norm gains in 1 ± 0.1, the embedding in ±0.5. For
    /// benchmarks at a real model's dimensions where no checkpoint is at hand; the classifier is separate unless
    /// <see cref="LlamaConfig.SharedClassifier"/>.
    /// </summary>
    public static LlamaWeights CreateRandom(LlamaConfig config, int seed)
    {
        ArgumentNullException.ThrowIfNull(config);
        config.Validate();
        var random = new Random(seed);
        float[] Values(long count, double scale, double offset = 0)
        {
            var values = new float[count];
            for (long i = 0; i < count; i++)
            {
                values[i] = (float)(offset + (scale * ((random.NextDouble() * 2) - 1)));
            }

            return values;
        }

        long l = config.Layers, d = config.Dim, kv = config.KvDim, h = config.HiddenDim, vocab = config.VocabSize;
        return new LlamaWeights
        {
            Config = config,
            TokenEmbedding = Values(vocab * d, 0.5),
            RmsAttention = Values(l * d, 0.1, 1),
            Wq = Values(l * d * d, 0.02),
            Wk = Values(l * kv * d, 0.02),
            Wv = Values(l * kv * d, 0.02),
            Wo = Values(l * d * d, 0.02),
            RmsFfn = Values(l * d, 0.1, 1),
            W1 = Values(l * h * d, 0.02),
            W2 = Values(l * d * h, 0.02),
            W3 = Values(l * h * d, 0.02),
            RmsFinal = Values(d, 0.1, 1),
            Classifier = config.SharedClassifier ? Array.Empty<float>() : Values(vocab * d, 0.02),
        };
    }

    /// <summary>The classifier's weights: its own, or the shared token embedding.</summary>
    public float[] ClassifierWeights => Config.SharedClassifier ? TokenEmbedding : Classifier;

    /// <summary>
    /// A projection's weights by the name <see cref="LlamaModel.Create"/> gives it: "blk.{layer}.attn_q", "attn_k",
    /// "attn_v", "attn_output", "ffn_gate", "ffn_down", "ffn_up", or "output" (the classifier).
    /// </summary>
    /// <exception cref="ArgumentException">Not such a name, or a layer out of range.</exception>
    /// <exception cref="InvalidOperationException">The projection's float32 weights were left out at load time.</exception>
    public ReadOnlyMemory<float> Projection(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        if (name == "output")
        {
            return ClassifierWeights;
        }

        var c = Config;
        var parts = name.Split('.');
        if (parts.Length == 3 && parts[0] == "blk" && int.TryParse(parts[1], System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out int layer) && layer < c.Layers)
        {
            int d = c.Dim, kv = c.KvDim, h = c.HiddenDim;
            switch (parts[2])
            {
                case "attn_q": return Layer(Wq, layer, d * d);
                case "attn_k": return Layer(Wk, layer, kv * d);
                case "attn_v": return Layer(Wv, layer, kv * d);
                case "attn_output": return Layer(Wo, layer, d * d);
                case "ffn_gate": return Layer(W1, layer, h * d);
                case "ffn_down": return Layer(W2, layer, d * h);
                case "ffn_up": return Layer(W3, layer, h * d);
            }
        }

        throw new ArgumentException($"'{name}' is not a projection of this {c.Layers}-layer model (blk.N.attn_q|attn_k|attn_v|attn_output|ffn_gate|ffn_down|ffn_up, or output).", nameof(name));
    }

    /// <summary>One layer's slice of a per-layer array.</summary>
    /// <exception cref="InvalidOperationException"><paramref name="all"/> is empty: weights left out at load time.</exception>
    public static ReadOnlyMemory<float> Layer(float[] all, int layer, int perLayer)
    {
        ArgumentNullException.ThrowIfNull(all);
        return all.Length == 0 && perLayer != 0
            ? throw new InvalidOperationException("This projection's float32 weights were left out at load time (a GGUF's scheme codes, loaded to run as stored). Load with GgufLlama.LoadWeights(file, dequantizeSchemeCodes: true) to read them as float32.")
            : all.AsMemory(layer * perLayer, perLayer);
    }
}
