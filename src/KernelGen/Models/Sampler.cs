using System;

namespace KernelGen.Models;

/// <summary>
/// Picks the next token from logits: greedy at temperature 0, else softmax(logits / temperature), restricted to the
/// smallest set of tokens whose probability reaches <see cref="TopP"/> when 0 &lt; TopP &lt; 1 (run.c's sampler).
/// Seeded: the same seed gives the same choices. Allocates its buffers once.
/// </summary>
public sealed class Sampler
{
    private readonly Random random;
    private readonly float[] probabilities;
    private readonly int[] order;

    /// <summary>Creates a sampler for a vocabulary of <paramref name="vocabSize"/>.</summary>
    public Sampler(int vocabSize, float temperature = 0f, float topP = 1f, int seed = 0)
    {
        if (vocabSize <= 0)
        {
            throw new ArgumentOutOfRangeException(nameof(vocabSize), vocabSize, "The vocabulary size must be positive.");
        }

        if (!(temperature >= 0) || float.IsInfinity(temperature))
        {
            throw new ArgumentOutOfRangeException(nameof(temperature), temperature, "The temperature must be 0 (greedy) or a positive number.");
        }

        if (!(topP > 0 && topP <= 1))
        {
            throw new ArgumentOutOfRangeException(nameof(topP), topP, "top-p must be in (0, 1]; 1 disables nucleus sampling.");
        }

        Temperature = temperature;
        TopP = topP;
        random = new Random(seed);
        probabilities = new float[vocabSize];
        order = new int[vocabSize];
    }

    /// <summary>0 means greedy.</summary>
    public float Temperature { get; }

    /// <summary>Nucleus threshold; 1 disables it.</summary>
    public float TopP { get; }

    /// <summary>The next token.</summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
    public int Sample(ReadOnlySpan<float> logits)
    {
        if (Temperature == 0f)
        {
            return ArgMax(logits);
        }

        float max = float.NegativeInfinity;
        foreach (float l in logits)
        {
            max = MathF.Max(max, l);
        }

        float sum = 0f;
        for (int i = 0; i < logits.Length; i++)
        {
            probabilities[i] = MathF.Exp((logits[i] - max) / Temperature);
            sum += probabilities[i];
        }

        float coin = (float)random.NextDouble();
        if (TopP >= 1f)
        {
            float cumulative = 0f;
            for (int i = 0; i < logits.Length; i++)
            {
                cumulative += probabilities[i] / sum;
                if (coin < cumulative)
                {
                    return i;
                }
            }

            return logits.Length - 1;
        }

        // Nucleus: sort by probability, keep the smallest prefix reaching TopP, sample within it.
        var ids = order.AsSpan(0, logits.Length);
        for (int i = 0; i < ids.Length; i++)
        {
            ids[i] = i;
        }

        var probs = probabilities.AsSpan(0, logits.Length);
        ids.Sort((a, b) => probabilities[b].CompareTo(probabilities[a]));
        float kept = 0f;
        int last = ids.Length - 1;
        for (int i = 0; i < ids.Length; i++)
        {
            kept += probs[ids[i]] / sum;
            if (kept >= TopP)
            {
                last = i;
                break;
            }
        }

        float target = coin * kept, running = 0f;
        for (int i = 0; i <= last; i++)
        {
            running += probs[ids[i]] / sum;
            if (target < running)
            {
                return ids[i];
            }
        }

        return ids[last];
    }

    /// <summary>Index of the largest logit (the first on ties).</summary>
    public static int ArgMax(ReadOnlySpan<float> logits)
    {
        int best = 0;
        for (int i = 1; i < logits.Length; i++)
        {
            if (logits[i] > logits[best])
            {
                best = i;
            }
        }

        return best;
    }
}
