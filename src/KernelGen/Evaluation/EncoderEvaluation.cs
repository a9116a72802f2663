using System;
using System.Collections.Generic;
using System.Linq;
using KernelGen.Models;

namespace KernelGen.Evaluation;

/// <summary>A compressed encoder against the float one over a corpus.</summary>
/// <param name="Name">The candidate.</param>
/// <param name="BitsPerWeight">Storage per projection weight.</param>
/// <param name="OneMinusCosine">1 − cosine(float embedding, candidate embedding) per corpus item.</param>
/// <param name="RecallAt10">Nearest-neighbour recall@10 of the candidate's embeddings against the float ones.</param>
public sealed record EncoderMetrics(string Name, double BitsPerWeight, double[] OneMinusCosine, double RecallAt10)
{
    /// <summary>Mean 1 − cosine.</summary>
    public double MeanOneMinusCosine => OneMinusCosine.Average();

    /// <summary>Worst 1 − cosine.</summary>
    public double MaxOneMinusCosine => OneMinusCosine.Max();
}

/// <summary>Embedding agreement and retrieval agreement of compressed encoders with the float encoder.</summary>
public static class EncoderEvaluation
{
    /// <summary>Embeds <paramref name="corpus"/> with both and compares.</summary>
    public static EncoderMetrics Compare(string name, double bitsPerWeight, float[][] reference, BertModel candidate, IReadOnlyList<string> corpus)
    {
        ArgumentNullException.ThrowIfNull(reference);
        ArgumentNullException.ThrowIfNull(candidate);
        ArgumentNullException.ThrowIfNull(corpus);
        var embeddings = candidate.Embed(corpus);
        var distance = reference.Zip(embeddings, (a, b) => 1 - Statistics.Cosine(a, b)).ToArray();
        return new EncoderMetrics(name, bitsPerWeight, distance, Statistics.RecallAtK(reference, embeddings, 10));
    }
}
