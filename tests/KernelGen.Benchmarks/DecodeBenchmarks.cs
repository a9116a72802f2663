using System;
using BenchmarkDotNet.Attributes;
using KernelGen.Backends;
using KernelGen.Models;

namespace KernelGen.Benchmarks;

/// <summary>
/// One decode step (<see cref="LlamaModel.Forward"/>) of a small Llama-shaped decoder with every projection in q4g128
/// on ILGPU's CPU accelerator: q, k and v (and gate and up) stacked into one launch each (the default), against the
/// same model with the seven projections of a layer launched one by one (the baseline). Random weights, fixed seed.
/// The CPU accelerator's cost per launch stands in for a GPU's launch latency here; the GPU's own figures are in
/// docs/perf/gemv.md.
/// </summary>
[MemoryDiagnoser]
public class DecodeBenchmarks
{
    private ComputeDevice device = null!;
    private LlamaModel separate = null!;
    private LlamaModel stacked = null!;

    [GlobalSetup]
    public void Setup()
    {
        var config = new LlamaConfig(256, 688, 2, 8, 2, 512, 64, SharedClassifier: true);
        var random = new Random(42);
        float[] Random(long count, float scale, float offset = 0f)
        {
            var values = new float[count];
            for (long i = 0; i < count; i++)
            {
                values[i] = offset + (scale * (float)((random.NextDouble() * 2) - 1));
            }

            return values;
        }

        int d = config.Dim, kv = config.KvDim, h = config.HiddenDim, l = config.Layers;
        var weights = new LlamaWeights
        {
            Config = config,
            TokenEmbedding = Random((long)config.VocabSize * d, 0.5f),
            RmsAttention = Random((long)l * d, 0.1f, 1f),
            Wq = Random((long)l * d * d, 0.05f),
            Wk = Random((long)l * kv * d, 0.05f),
            Wv = Random((long)l * kv * d, 0.05f),
            Wo = Random((long)l * d * d, 0.05f),
            RmsFfn = Random((long)l * d, 0.1f, 1f),
            W1 = Random((long)l * h * d, 0.05f),
            W2 = Random((long)l * d * h, 0.05f),
            W3 = Random((long)l * h * d, 0.05f),
            RmsFinal = Random(d, 0.1f, 1f),
        };
        device = ComputeDevice.Create(DeviceKind.Cpu);
        separate = LlamaModel.CreateQuantized<Q4G128>(weights, device, stackProjections: false);
        stacked = LlamaModel.CreateQuantized<Q4G128>(weights, device);
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        separate.Dispose();
        stacked.Dispose();
        device.Dispose();
    }

    [Benchmark(Baseline = true, Description = "7 launches per layer")]
    public float Separate() => separate.Forward(7, 0)[0];

    [Benchmark(Description = "q|k|v and gate|up stacked: 4 per layer")]
    public float Stacked() => stacked.Forward(7, 0)[0];
}
