using System;
using KernelGen.Models;
using Xunit;
using Xunit.Abstractions;

namespace KernelGen.Tests.Models;

/// <summary>
/// <see cref="LlamaModel"/>'s host attention at Llama's head size against the independent float64 forward
/// (<see cref="ReferenceLlama"/>). stories260K's heads of 8 values are shorter than one SIMD vector, so only a model
/// with heads of 128 takes the attention's vector lanes.
/// </summary>
public sealed class LlamaAttentionTests(ITestOutputHelper output)
{
    [Fact]
    public void Forward_WithHeadsOf128AndGroupedQueries_AgreesWithTheFloat64Reference()
    {
        // 4 query heads of 128 per kv head (Llama-3-8B's grouping), 40 positions: every score row longer than a vector.
        var config = new LlamaConfig(1024, 768, 2, 8, 2, 96, 40, SharedClassifier: true);
        Assert.Equal(128, config.HeadSize);
        int seed = TestData.CreateRandom(nameof(Forward_WithHeadsOf128AndGroupedQueries_AgreesWithTheFloat64Reference)).Next();
        var weights = LlamaWeights.CreateRandom(config, seed);
        using var model = LlamaModel.CreateDense(weights);
        var reference = new ReferenceLlama(weights);
        var random = new Random(seed);
        double worst = 0, largest = 0;
        for (int pos = 0; pos < config.SeqLen; pos++)
        {
            int token = random.Next(config.VocabSize);
            var logits = model.Forward(token, pos).ToArray();
            var expected = reference.Forward(token, pos);
            for (int i = 0; i < logits.Length; i++)
            {
                worst = Math.Max(worst, Math.Abs(logits[i] - expected[i]));
                largest = Math.Max(largest, Math.Abs(expected[i]));
            }
        }

        output.WriteLine($"max |Δlogit| over {config.SeqLen} positions × {config.VocabSize} logits: {worst:E2} (largest |logit| {largest:F2}); {TestData.Describe("seed")}");
        Assert.True(largest > 0.1, $"logits too small to test anything: {largest}");
        Assert.True(worst < 1e-5 * Math.Max(1, largest), $"max |Δlogit| = {worst:E2} of {largest:F2}; {TestData.Describe("seed")}");
    }

    /// <summary>
    /// <see cref="LlamaModel.Attend"/> on its own, past <see cref="LlamaModel.ParallelAttentionWork"/> (300 positions of
    /// 8 heads of 128, the second layer's rows of a cache), against attention written here in float64; on one thread and
    /// on the thread pool, which must give the same bits.
    /// </summary>
    [Fact]
    public void Attend_OnOneThreadAndOnThePool_MatchesFloat64Attention()
    {
        const int heads = 8, kvHeads = 2, headSize = 128, positions = 300, stride = 320, kvDim = kvHeads * headSize;
        Assert.True((long)positions * heads * headSize >= LlamaModel.ParallelAttentionWork);
        var random = TestData.CreateRandom(nameof(Attend_OnOneThreadAndOnThePool_MatchesFloat64Attention));
        float[] Fill(int n, double range)
        {
            var a = new float[n];
            for (int i = 0; i < n; i++)
            {
                a[i] = (float)(((random.NextDouble() * 2) - 1) * range);
            }

            return a;
        }

        int cacheStart = stride * kvDim; // a second layer's rows
        var q = Fill(heads * headSize, 1);
        var keys = Fill(2 * stride * kvDim, 0.5);
        var values = Fill(2 * stride * kvDim, 1);
        float scale = 1f / MathF.Sqrt(headSize);

        var serial = new float[heads * headSize];
        var pooled = new float[heads * headSize];
        LlamaModel.Attend(q, keys, values, cacheStart, positions, new float[heads * stride], serial, heads, kvHeads, stride, scale, parallel: false);
        LlamaModel.Attend(q, keys, values, cacheStart, positions, new float[heads * stride], pooled, heads, kvHeads, stride, scale, parallel: true);
        Assert.Equal(serial, pooled);

        double worst = 0, norm = 0;
        for (int h = 0; h < heads; h++)
        {
            int kv = h / (heads / kvHeads);
            var p = new double[positions];
            double max = double.NegativeInfinity, sum = 0;
            for (int t = 0; t < positions; t++)
            {
                for (int i = 0; i < headSize; i++)
                {
                    p[t] += (double)q[(h * headSize) + i] * keys[cacheStart + (t * kvDim) + (kv * headSize) + i];
                }

                p[t] /= Math.Sqrt(headSize);
                max = Math.Max(max, p[t]);
            }

            for (int t = 0; t < positions; t++)
            {
                p[t] = Math.Exp(p[t] - max);
                sum += p[t];
            }

            for (int i = 0; i < headSize; i++)
            {
                double expected = 0;
                for (int t = 0; t < positions; t++)
                {
                    expected += p[t] / sum * values[cacheStart + (t * kvDim) + (kv * headSize) + i];
                }

                worst = Math.Max(worst, Math.Abs(serial[(h * headSize) + i] - expected));
                norm = Math.Max(norm, Math.Abs(expected));
            }
        }

        output.WriteLine($"max |Δ| {worst:E2} of max |out| {norm:E2}; {TestData.Describe("seed")}");
        Assert.True(norm > 1e-3, "outputs too small to test anything");
        Assert.True(worst < 1e-5 * norm, $"max |Δ| = {worst:E2} of {norm:E2}; {TestData.Describe("seed")}");
    }
}
