using System;

namespace KernelGen.Models;

/// <summary>Full-precision weights of a Llama-family decoder, every matrix row-major [out][in] per layer.</summary>
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

    /// <summary>The classifier's weights: its own, or the shared token embedding.</summary>
    public float[] ClassifierWeights => Config.SharedClassifier ? TokenEmbedding : Classifier;

    /// <summary>One layer's slice of a per-layer array.</summary>
    public static ReadOnlyMemory<float> Layer(float[] all, int layer, int perLayer) => all.AsMemory(layer * perLayer, perLayer);
}
