using System;
using BenchmarkDotNet.Attributes;
using KernelGen.Models;

namespace KernelGen.Benchmarks;

/// <summary>
/// One layer's host attention of one decode token at Llama-3-8B's shape (32 query heads of 128, 8 kv heads) over
/// <see cref="Positions"/> cached positions: <see cref="LlamaModel"/>'s SIMD version, on one thread and with its kv
/// heads on the thread pool, against the scalar loops it replaced (the baseline, kept here as they were). Random cache
/// and query, fixed seed.
/// </summary>
public class AttentionBenchmarks
{
    private const int Heads = 32, KvHeads = 8, HeadSize = 128, KvDim = KvHeads * HeadSize;
    private float[] q = null!, keys = null!, values = null!, scores = null!, output = null!;

    [Params(128, 2048)]
    public int Positions { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        var random = new Random(42);
        q = Fill(random, Heads * HeadSize);
        keys = Fill(random, Positions * KvDim);
        values = Fill(random, Positions * KvDim);
        scores = new float[Heads * Positions];
        output = new float[Heads * HeadSize];
    }

    [Benchmark(Baseline = true, Description = "scalar loops")]
    public float Scalar()
    {
        float scale = 1f / MathF.Sqrt(HeadSize);
        const int groupSize = Heads / KvHeads;
        for (int h = 0; h < Heads; h++)
        {
            var qh = q.AsSpan(h * HeadSize, HeadSize);
            var headScores = scores.AsSpan(h * Positions, Positions);
            int kvOffset = (h / groupSize) * HeadSize;
            for (int t = 0; t < Positions; t++)
            {
                var kt = keys.AsSpan((t * KvDim) + kvOffset, HeadSize);
                float score = 0f;
                for (int i = 0; i < HeadSize; i++)
                {
                    score += qh[i] * kt[i];
                }

                headScores[t] = score * scale;
            }

            LlamaModel.Softmax(headScores);
            var outHead = output.AsSpan(h * HeadSize, HeadSize);
            outHead.Clear();
            for (int t = 0; t < Positions; t++)
            {
                var vt = values.AsSpan((t * KvDim) + kvOffset, HeadSize);
                float a = headScores[t];
                for (int i = 0; i < HeadSize; i++)
                {
                    outHead[i] += a * vt[i];
                }
            }
        }

        return output[0];
    }

    [Benchmark(Description = "Attend: SIMD, one thread")]
    public float Simd()
    {
        LlamaModel.Attend(q, keys, values, 0, Positions, scores, output, Heads, KvHeads, Positions, 1f / MathF.Sqrt(HeadSize), parallel: false);
        return output[0];
    }

    [Benchmark(Description = "Attend: SIMD, kv heads on the thread pool")]
    public float SimdParallel()
    {
        LlamaModel.Attend(q, keys, values, 0, Positions, scores, output, Heads, KvHeads, Positions, 1f / MathF.Sqrt(HeadSize), parallel: true);
        return output[0];
    }

    private static float[] Fill(Random random, int length)
    {
        var a = new float[length];
        for (int i = 0; i < a.Length; i++)
        {
            a[i] = (float)((random.NextDouble() * 2) - 1);
        }

        return a;
    }
}
