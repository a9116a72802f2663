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
        var config = new LlamaConfig(512, 768, 2, 8, 2, 96, 40, SharedClassifier: true);
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
}
