using System;
using System.Collections.Generic;
using System.Linq;

namespace KernelGen.Evaluation;

/// <summary>Small statistics used by the evaluation report.</summary>
public static class Statistics
{
    /// <summary>Nearest-rank percentile: the smallest value with at least <paramref name="q"/> of the values at or below it.</summary>
    public static double Percentile(IReadOnlyCollection<double> values, double q)
    {
        ArgumentNullException.ThrowIfNull(values);
        if (values.Count == 0)
        {
            return 0;
        }

        var sorted = values.Order().ToArray();
        int rank = (int)Math.Ceiling(q * sorted.Length);
        return sorted[Math.Clamp(rank - 1, 0, sorted.Length - 1)];
    }

    /// <summary>Cosine similarity in float64.</summary>
    public static double Cosine(ReadOnlySpan<float> a, ReadOnlySpan<float> b)
    {
        double dot = 0, na = 0, nb = 0;
        for (int i = 0; i < a.Length; i++)
        {
            dot += a[i] * (double)b[i];
            na += a[i] * (double)a[i];
            nb += b[i] * (double)b[i];
        }

        return na > 0 && nb > 0 ? dot / Math.Sqrt(na * nb) : 0;
    }

    /// <summary>
    /// Nearest-neighbour recall@k: for every item as a query, the fraction of its k nearest other items (by cosine)
    /// under <paramref name="reference"/> embeddings that are also among its k nearest under <paramref name="candidate"/>;
    /// averaged over queries. k is capped at n − 1.
    /// </summary>
    public static double RecallAtK(IReadOnlyList<float[]> reference, IReadOnlyList<float[]> candidate, int k)
    {
        ArgumentNullException.ThrowIfNull(reference);
        ArgumentNullException.ThrowIfNull(candidate);
        int n = reference.Count;
        if (candidate.Count != n || n < 2)
        {
            throw new ArgumentException($"Recall needs the same n ≥ 2 items embedded both ways ({reference.Count} and {candidate.Count}).");
        }

        k = Math.Min(k, n - 1);
        double total = 0;
        for (int q = 0; q < n; q++)
        {
            var expected = Nearest(reference, q, k);
            var actual = Nearest(candidate, q, k);
            total += expected.Intersect(actual).Count() / (double)k;
        }

        return total / n;
    }

    private static HashSet<int> Nearest(IReadOnlyList<float[]> items, int query, int k)
        => Enumerable.Range(0, items.Count).Where(i => i != query)
            .OrderByDescending(i => Cosine(items[query], items[i])).ThenBy(i => i)
            .Take(k).ToHashSet();
}
