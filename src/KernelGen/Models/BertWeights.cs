using System;

namespace KernelGen.Models;

/// <summary>Shape of a BERT-family encoder.</summary>
/// <param name="Hidden">Model width.</param>
/// <param name="Layers">Encoder blocks.</param>
/// <param name="Heads">Attention heads.</param>
/// <param name="Intermediate">FFN width.</param>
/// <param name="VocabSize">Vocabulary size.</param>
/// <param name="MaxPositions">Longest input (position embeddings).</param>
public sealed record BertConfig(int Hidden, int Layers, int Heads, int Intermediate, int VocabSize, int MaxPositions)
{
    /// <summary>LayerNorm epsilon (BERT: 1e-12).</summary>
    public float LayerNormEpsilon { get; init; } = 1e-12f;

    /// <summary>Per-head width.</summary>
    public int HeadSize => Heads > 0 ? Hidden / Heads : 0;
}

/// <summary>One encoder block's weights; matrices row-major (out, in).</summary>
public sealed record BertLayerWeights(
    float[] Query, float[] QueryBias, float[] Key, float[] KeyBias, float[] Value, float[] ValueBias,
    float[] AttentionOutput, float[] AttentionOutputBias, float[] AttentionNormGain, float[] AttentionNormBias,
    float[] Intermediate, float[] IntermediateBias, float[] Output, float[] OutputBias, float[] OutputNormGain, float[] OutputNormBias);

/// <summary>Full-precision weights of a BERT-family encoder.</summary>
public sealed record BertWeights(
    BertConfig Config, float[] WordEmbeddings, float[] PositionEmbeddings, float[] TokenTypeEmbeddings,
    float[] EmbeddingNormGain, float[] EmbeddingNormBias, BertLayerWeights[] Layers);
