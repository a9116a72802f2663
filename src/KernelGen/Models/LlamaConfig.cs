using System;

namespace KernelGen.Models;

/// <summary>Shape and constants of a Llama-family decoder.</summary>
/// <param name="Dim">Model width.</param>
/// <param name="HiddenDim">FFN width.</param>
/// <param name="Layers">Transformer blocks.</param>
/// <param name="Heads">Query heads.</param>
/// <param name="KvHeads">Key/value heads (grouped-query attention when fewer than <paramref name="Heads"/>).</param>
/// <param name="VocabSize">Vocabulary size.</param>
/// <param name="SeqLen">Longest sequence the KV cache holds.</param>
/// <param name="SharedClassifier">True when the output classifier is the token embedding.</param>
public sealed record LlamaConfig(int Dim, int HiddenDim, int Layers, int Heads, int KvHeads, int VocabSize, int SeqLen, bool SharedClassifier)
{
    /// <summary>Per-head width.</summary>
    public int HeadSize => Heads > 0 ? Dim / Heads : 0;

    /// <summary>Width of the key and value projections.</summary>
    public int KvDim => Heads > 0 ? (int)((long)Dim * KvHeads / Heads) : 0;

    /// <summary>RoPE base (llama2.c and Llama 2: 10000).</summary>
    public double RopeTheta { get; init; } = 10000.0;

    /// <summary>RMSNorm epsilon (llama2.c: 1e-5).</summary>
    public float NormEpsilon { get; init; } = 1e-5f;

    /// <summary>Checks the invariants the forward pass relies on.</summary>
    /// <exception cref="ArgumentException">A dimension is out of range or heads do not divide it.</exception>
    public void Validate()
    {
        if (Dim <= 0 || HiddenDim <= 0 || Layers <= 0 || Heads <= 0 || KvHeads <= 0 || VocabSize <= 0 || SeqLen <= 0)
        {
            throw new ArgumentException($"Every dimension of {this} must be positive.");
        }

        if (Dim % Heads != 0 || Heads % KvHeads != 0 || HeadSize % 2 != 0)
        {
            throw new ArgumentException($"{this}: heads must divide dim, kv heads must divide heads, and the head size must be even for RoPE.");
        }
    }
}
