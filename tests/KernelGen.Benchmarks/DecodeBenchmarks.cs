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
        var weights = LlamaWeights.CreateRandom(config, seed: 42);
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
