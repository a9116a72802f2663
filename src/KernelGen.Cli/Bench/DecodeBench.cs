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
/// included. Both models are built from the same codes. In the untimed steps every projection's output is checked
/// against float64 over the x it read (<see cref="CheckedLinear{TScheme}"/>); the two models' logits are compared at
/// every step.
/// </summary>
internal static class DecodeBench
{
    public static int Run(BenchOptions options)
    {
        var (dim, hidden, heads, kvHeads) = options.DecodeShape;
        int positions = UntimedSteps(options) + options.Repetitions;
        var config = new LlamaConfig(dim, hidden, options.DecodeLayers, heads, kvHeads, 512, positions, SharedClassifier: true) { RopeTheta = 500000 };
        config.Validate();
        using var device = ComputeDevice.Create(ComputeDevice.ParseKind(options.Device, "--device"));
        Console.WriteLine($"device  {device}");
        Console.WriteLine(FormattableString.Invariant(
            $"decoder dim {dim}, hidden {hidden}, {heads} heads ({kvHeads} kv), {config.Layers} layers, random weights; wall clock per token, median of {options.Repetitions} after {options.Warmup}"));
        var weights = LlamaWeights.CreateRandom(config, seed: 17);
        var results = options.Schemes.Select(scheme => SchemeRegistry.Visit(scheme, new Visitor(weights, device, options))).ToList();

        Console.WriteLine();
        Console.WriteLine($"{"scheme",-8} {"separate ms",12} {"stacked ms",11} {"ratio",6} {"max |Δlogit|",13} {"step 0",8} {"max |logit|",11} {"worst projection rel.err (÷ tolerance)",40}");
        foreach (var r in results)
        {
            Console.WriteLine(FormattableString.Invariant(
                $"{r.Scheme,-8} {r.SeparateMilliseconds,12:F3} {r.StackedMilliseconds,11:F3} {r.StackedMilliseconds / r.SeparateMilliseconds,6:F3} {r.MaxLogitDifference,13:E1} {r.FirstStepLogitDifference,8:E1} {r.MaxLogit,11:F1} {r.WorstProjectionError,14:E1} ({r.WorstProjectionRatio:F3}) at {r.WorstProjection}"));
        }

        Console.WriteLine(FormattableString.Invariant($"projections checked against float64 in the {UntimedSteps(options)} untimed steps: {string.Join(", ", results.Select(r => $"{r.Scheme} {r.ProjectionsChecked}"))}"));

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

        // Every projection of both models within its kernel's tolerance of float64 over the x it read. With f16 x,
        // stacking must also not change the logits beyond the order of float sums. With x rounded to int8 the
        // logits are reported, not held to that: a sum that ends one ulp apart rounds the next layer's x to another
        // int8 step now and then, and later steps carry that on (gemv.md, session 33).
        bool projectionsCorrect = results.All(r => r.WorstProjectionRatio <= 1);
        bool logitsAgree = results.All(r => r.Int8Activations || r.MaxLogitDifference <= 1e-3 * Math.Max(1, r.MaxLogit));
        bool int8Differs = results.Any(r => r.MaxLogitDifference > 1e-3 * Math.Max(1, r.MaxLogit));
        if (!projectionsCorrect)
        {
            Console.Error.WriteLine("FAILED: a projection disagrees with float64 over the x it read (worst projection ÷ tolerance > 1).");
        }
        else if (!logitsAgree)
        {
            Console.Error.WriteLine("FAILED: the stacked and separate models' logits differ by more than 1e-3 of the largest.");
        }
        else if (int8Differs)
        {
            Console.WriteLine("note: with x rounded to int8 (KERNELGEN_INT8_X=1) the stacked and separate models' logits differ by more than 1e-3 of the largest; every projection matched float64 over the x it read.");
        }

        return projectionsCorrect && logitsAgree ? 0 : 1;
    }

    /// <summary>The steps before timing starts (at least one): each projection is checked in them.</summary>
    private static int UntimedSteps(BenchOptions options) => Math.Max(1, options.Warmup);

    internal sealed record DecodeResult(
        string Scheme, double SeparateMilliseconds, double StackedMilliseconds, double MaxLogitDifference, double FirstStepLogitDifference,
        double MaxLogit, double WorstProjectionError, double WorstProjectionRatio, string WorstProjection, int ProjectionsChecked, bool Int8Activations,
        IReadOnlyList<double> SeparateStepMilliseconds, IReadOnlyList<double> StackedStepMilliseconds);

    private sealed class Visitor(LlamaWeights weights, ComputeDevice device, BenchOptions options) : SchemeRegistry.IVisitor<DecodeResult>
    {
        public DecodeResult Visit<TScheme>()
            where TScheme : struct, IQuantScheme
        {
            var quantized = LlamaQuantizer.Rtn<TScheme>(weights);
            var separateCheck = new ProjectionCheck();
            var stackedCheck = new ProjectionCheck();
            using var separate = LlamaModel.Create(
                weights, (name, _, _, cols) => new CheckedLinear<TScheme>(new QuantizedLinear<TScheme>(device, quantized[name], cols), name, separateCheck), stackProjections: false);
            using var stacked = LlamaModel.Create(
                weights, (name, _, _, cols) => new CheckedLinear<TScheme>(new QuantizedLinear<TScheme>(device, quantized[name], cols), name, stackedCheck));

            // The same tokens at the same positions through both: logits first, then the timed steps, interleaved so
            // that both see the same device state.
            double maxDifference = 0, firstDifference = 0, maxLogit = 0;
            var separateTimes = new List<double>();
            var stackedTimes = new List<double>();
            int untimed = UntimedSteps(options);
            int positions = untimed + options.Repetitions;
            for (int pos = 0; pos < positions; pos++)
            {
                separateCheck.Enabled = stackedCheck.Enabled = pos < untimed;
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

                if (pos == 0)
                {
                    firstDifference = maxDifference;
                }

                if (pos >= untimed)
                {
                    separateTimes.Add(separateMs);
                    stackedTimes.Add(stackedMs);
                }
            }

            var worst = separateCheck.WorstRatio >= stackedCheck.WorstRatio ? separateCheck : stackedCheck;
            return new DecodeResult(
                TScheme.Info.Name, BenchRunner.Median(separateTimes), BenchRunner.Median(stackedTimes), maxDifference, firstDifference, maxLogit,
                worst.WorstError, worst.WorstRatio, $"{(worst == separateCheck ? "separate" : "stacked")} {worst.WorstAt}", separateCheck.Forwards + stackedCheck.Forwards,
                QuantLinear<TScheme>.QuantizeActivationsByDefault, separateTimes, stackedTimes);
        }
    }
}
