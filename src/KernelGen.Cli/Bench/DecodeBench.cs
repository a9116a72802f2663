using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Globalization;
using System.Linq;
using KernelGen.Backends;
using KernelGen.Layers;
using KernelGen.Models;
using KernelGen.Quantization;

namespace KernelGen.Cli.Bench;

/// <summary>
/// <c>kernelgen bench --decode LAYERS</c>: one decode step (<see cref="LlamaModel.Forward"/>) of a decoder with
/// <see cref="BenchOptions.DecodeShape"/>'s layer shapes (Llama-3-8B's unless given), LAYERS layers of seeded random
/// weights, per scheme: q, k and v (and gate and up) stacked into one launch each, against the seven projections of a
/// layer launched one by one. Wall clock per token, as a user sees it: host attention, norms and the copies of x and y
/// included. Both models are built from the same codes; their logits are compared before timing.
/// </summary>
internal static class DecodeBench
{
    public static int Run(BenchOptions options)
    {
        var (dim, hidden, heads, kvHeads) = options.DecodeShape;
        int positions = options.Warmup + options.Repetitions;
        var config = new LlamaConfig(dim, hidden, options.DecodeLayers, heads, kvHeads, 512, positions, SharedClassifier: true) { RopeTheta = 500000 };
        config.Validate();
        using var device = ComputeDevice.Create(ComputeDevice.ParseKind(options.Device, "--device"));
        Console.WriteLine($"device  {device}");
        Console.WriteLine(FormattableString.Invariant(
            $"decoder dim {dim}, hidden {hidden}, {heads} heads ({kvHeads} kv), {config.Layers} layers, random weights; wall clock per token, median of {options.Repetitions} after {options.Warmup}"));
        var weights = LlamaWeights.CreateRandom(config, seed: 17);
        var results = options.Schemes.Select(scheme => SchemeRegistry.Visit(scheme, new Visitor(weights, device, options))).ToList();

        Console.WriteLine();
        Console.WriteLine($"{"scheme",-8} {"separate ms",12} {"stacked ms",11} {"ratio",6} {"max |Δlogit|",13}");
        foreach (var r in results)
        {
            Console.WriteLine(FormattableString.Invariant($"{r.Scheme,-8} {r.SeparateMilliseconds,12:F3} {r.StackedMilliseconds,11:F3} {r.StackedMilliseconds / r.SeparateMilliseconds,6:F3} {r.MaxLogitDifference,13:E1}"));
        }

        if (CacheCommand.Summary() is { } cacheLine)
        {
            Console.WriteLine(cacheLine);
        }

        if (options.JsonPath is not null)
        {
            BenchJson.Write(options.JsonPath, new
            {
                device = device.Name,
                kind = device.Kind.ToString(),
                decoder = new { dim, hidden, heads, kvHeads, layers = config.Layers },
                timing = $"wall clock per LlamaModel.Forward, median of {options.Repetitions} after {options.Warmup}",
                date = DateTime.UtcNow.ToString("yyyy-MM-dd'T'HH:mm'Z'", CultureInfo.InvariantCulture),
                results,
            });
        }

        // Stacking must not change what a layer computes beyond the order of float sums.
        return results.All(r => r.MaxLogitDifference <= 1e-3 * Math.Max(1, r.MaxLogit)) ? 0 : 1;
    }

    internal sealed record DecodeResult(string Scheme, double SeparateMilliseconds, double StackedMilliseconds, double MaxLogitDifference, double MaxLogit);

    private sealed class Visitor(LlamaWeights weights, ComputeDevice device, BenchOptions options) : SchemeRegistry.IVisitor<DecodeResult>
    {
        public DecodeResult Visit<TScheme>()
            where TScheme : struct, IQuantScheme
        {
            var quantized = LlamaQuantizer.Rtn<TScheme>(weights);
            ILinearLayer Build(string name, int cols) => new QuantizedLinear<TScheme>(device, quantized[name], cols);
            using var separate = LlamaModel.Create(weights, (name, _, _, cols) => Build(name, cols), stackProjections: false);
            using var stacked = LlamaModel.Create(weights, (name, _, _, cols) => Build(name, cols));

            // The same tokens at the same positions through both: logits first, then the timed steps, interleaved so
            // that both see the same device state.
            double maxDifference = 0, maxLogit = 0;
            var separateTimes = new List<double>();
            var stackedTimes = new List<double>();
            int positions = options.Warmup + options.Repetitions;
            for (int pos = 0; pos < positions; pos++)
            {
                int token = (pos * 37) % weights.Config.VocabSize;
                long start = Stopwatch.GetTimestamp();
                var a = separate.Forward(token, pos); // each model's own buffer: valid until its next step
                double separateMs = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
                start = Stopwatch.GetTimestamp();
                var b = stacked.Forward(token, pos);
                double stackedMs = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
                for (int i = 0; i < a.Length; i++)
                {
                    maxDifference = Math.Max(maxDifference, Math.Abs(a[i] - b[i]));
                    maxLogit = Math.Max(maxLogit, Math.Abs(a[i]));
                }

                if (pos >= options.Warmup)
                {
                    separateTimes.Add(separateMs);
                    stackedTimes.Add(stackedMs);
                }
            }

            return new DecodeResult(TScheme.Info.Name, BenchRunner.Median(separateTimes), BenchRunner.Median(stackedTimes), maxDifference, maxLogit);
        }
    }
}
