using System;
using System.Collections.Generic;
using System.Linq;
using KernelGen.Layers;
using KernelGen.Models;

namespace KernelGen.Evaluation;

/// <summary>A compressed decoder to evaluate: a name, its storage cost and the model (built with probes by
/// <see cref="DecoderEvaluation.Probe"/> when per-layer error is wanted).</summary>
public sealed record DecoderCandidate(string Name, double BitsPerWeight, LlamaModel Model, IReadOnlyList<ProbedLinear> Probes);

/// <summary>What evaluation found for one candidate against the float model.</summary>
/// <param name="Name">The candidate.</param>
/// <param name="BitsPerWeight">Storage per projection weight, scales and zeros included.</param>
/// <param name="Perplexity">exp(mean NLL) over the evaluation chunks.</param>
/// <param name="KlDivergence">KL(P_float ‖ P_candidate) in nats at every evaluated position.</param>
/// <param name="SameTop1">Fraction of positions whose arg-max token equals the float model's.</param>
/// <param name="Layers">Per-projection relative output error, in model order.</param>
public sealed record DecoderMetrics(string Name, double BitsPerWeight, double Perplexity, double[] KlDivergence, double SameTop1, IReadOnlyList<LayerError> Layers)
{
    /// <summary>Mean KL divergence.</summary>
    public double MeanKl => KlDivergence.Length == 0 ? 0 : KlDivergence.Average();

    /// <summary>99th percentile of the KL divergence (nearest rank).</summary>
    public double P99Kl => Statistics.Percentile(KlDivergence, 0.99);

    /// <summary>Largest KL divergence at any position.</summary>
    public double MaxKl => KlDivergence.Length == 0 ? 0 : KlDivergence.Max();
}

/// <summary>One projection's relative output error.</summary>
public sealed record LayerError(string Name, double RelativeError);

/// <summary>The float model's own figures on the same chunks.</summary>
public sealed record BaselineMetrics(double Perplexity, int Positions, int Chunks, int ChunkLength);

/// <summary>
/// Compares compressed decoders with the float model on evaluation text. Protocol: the text is tokenized once without
/// BOS and cut into non-overlapping chunks of <c>chunkLength</c> tokens (a shorter tail is dropped); each chunk is fed
/// from position 0 after a BOS, so every model predicts every chunk token from BOS and the chunk's earlier tokens.
/// Perplexity is exp of the mean negative log-likelihood of those predictions; KL and top-1 compare the full next-token
/// distributions at the same positions. All models step in lockstep, so no logits are stored.
/// </summary>
public static class DecoderEvaluation
{
    /// <summary>Cuts <paramref name="tokens"/> (no BOS) into chunks of <paramref name="chunkLength"/>.</summary>
    public static List<int[]> Chunk(IReadOnlyList<int> tokens, int chunkLength, int maxChunks = int.MaxValue)
    {
        ArgumentNullException.ThrowIfNull(tokens);
        ArgumentOutOfRangeException.ThrowIfLessThan(chunkLength, 1);
        var chunks = new List<int[]>();
        for (int start = 0; start + chunkLength <= tokens.Count && chunks.Count < maxChunks; start += chunkLength)
        {
            chunks.Add(tokens.Skip(start).Take(chunkLength).ToArray());
        }

        return chunks;
    }

    /// <summary>
    /// Builds a candidate whose every block projection is <paramref name="compressed"/>'s layer wrapped in a
    /// <see cref="ProbedLinear"/> against the float projection of <paramref name="original"/> of the same name.
    /// <paramref name="weights"/> gives the candidate's other tensors (embedding, norms, classifier).
    /// </summary>
    public static DecoderCandidate Probe(string name, double bitsPerWeight, LlamaWeights weights, LlamaWeights original, LlamaModel.LinearFactory compressed)
    {
        ArgumentNullException.ThrowIfNull(weights);
        ArgumentNullException.ThrowIfNull(original);
        ArgumentNullException.ThrowIfNull(compressed);
        var probes = new List<ProbedLinear>();
        var model = LlamaModel.Create(weights, (layer, w, rows, cols) =>
        {
            var probe = new ProbedLinear(layer, compressed(layer, w, rows, cols), new DenseLinear(original.Projection(layer), rows, cols));
            probes.Add(probe);
            return probe;
        });
        return new DecoderCandidate(name, bitsPerWeight, model, probes);
    }

    /// <summary>Runs the float model and every candidate over <paramref name="chunks"/> (BOS = <paramref name="bos"/>).</summary>
    public static (BaselineMetrics Baseline, List<DecoderMetrics> Candidates) Evaluate(
        LlamaModel baseline, IReadOnlyList<DecoderCandidate> candidates, IReadOnlyList<int[]> chunks, int bos, Action<double>? progress = null)
    {
        ArgumentNullException.ThrowIfNull(baseline);
        ArgumentNullException.ThrowIfNull(candidates);
        ArgumentNullException.ThrowIfNull(chunks);
        if (chunks.Count == 0)
        {
            throw new ArgumentException("No evaluation chunks: the text is shorter than one chunk.", nameof(chunks));
        }

        int chunkLength = chunks[0].Length;
        if (chunks.Any(c => c.Length != chunkLength) || chunkLength >= baseline.Config.SeqLen)
        {
            throw new ArgumentException($"Chunks must all hold {chunkLength} tokens, fewer than the model's {baseline.Config.SeqLen} positions (BOS takes one).", nameof(chunks));
        }

        int vocab = baseline.Config.VocabSize;
        var baseLog = new double[vocab];
        var candLog = new double[vocab];
        double baseNll = 0;
        var nll = new double[candidates.Count];
        var same = new long[candidates.Count];
        var kl = candidates.Select(_ => new List<double>()).ToArray();
        long positions = 0;
        for (int c = 0; c < chunks.Count; c++)
        {
            var chunk = chunks[c];
            int token = bos;
            for (int pos = 0; pos < chunk.Length; pos++)
            {
                int next = chunk[pos];
                var baseLogits = baseline.Forward(token, pos);
                int baseTop = LogSoftmax(baseLogits, baseLog);
                baseNll -= baseLog[next];
                for (int m = 0; m < candidates.Count; m++)
                {
                    int top = LogSoftmax(candidates[m].Model.Forward(token, pos), candLog);
                    nll[m] -= candLog[next];
                    same[m] += top == baseTop ? 1 : 0;
                    double divergence = 0;
                    for (int v = 0; v < vocab; v++)
                    {
                        double p = Math.Exp(baseLog[v]);
                        divergence += p * (baseLog[v] - candLog[v]);
                    }

                    kl[m].Add(Math.Max(divergence, 0));
                }

                token = next;
                positions++;
            }

            progress?.Invoke((c + 1.0) / chunks.Count);
        }

        var results = candidates.Select((candidate, m) => new DecoderMetrics(
            candidate.Name,
            candidate.BitsPerWeight,
            Math.Exp(nll[m] / positions),
            kl[m].ToArray(),
            same[m] / (double)positions,
            candidate.Probes.Select(p => new LayerError(p.Name, p.RelativeError)).ToList())).ToList();
        return (new BaselineMetrics(Math.Exp(baseNll / positions), (int)positions, chunks.Count, chunkLength), results);
    }

    /// <summary>log softmax in float64; returns the arg-max (lowest index on ties).</summary>
    public static int LogSoftmax(ReadOnlySpan<float> logits, Span<double> output)
    {
        int top = 0;
        double max = double.NegativeInfinity;
        for (int i = 0; i < logits.Length; i++)
        {
            if (logits[i] > max)
            {
                max = logits[i];
                top = i;
            }
        }

        double sum = 0;
        for (int i = 0; i < logits.Length; i++)
        {
            sum += Math.Exp(logits[i] - max);
        }

        double logSum = max + Math.Log(sum);
        for (int i = 0; i < logits.Length; i++)
        {
            output[i] = logits[i] - logSum;
        }

        return top;
    }
}
