using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;

namespace KernelGen.Cli.Bench;

/// <summary>Arguments of <c>kernelgen bench</c>.</summary>
internal sealed record BenchOptions
{
    public static readonly (int N, int K)[] DefaultShapes = { (4096, 4096), (8192, 8192), (28672, 8192), (8192, 28672) };

    public IReadOnlyList<(int N, int K)> Shapes { get; init; } = DefaultShapes;

    public IReadOnlyList<int> BatchSizes { get; init; } = new[] { 1, 16, 128, 2048 };

    /// <summary>The five: 4-bit asym g128, 4-bit sym g128, 8-bit sym per-channel, 3-bit asym g128, 2-bit asym g64.</summary>
    public IReadOnlyList<string> Schemes { get; init; } = new[] { Q4G128.SchemeName, Q4G128Sym.SchemeName, Q8PerChannelSym.SchemeName, Q3G128.SchemeName, Q2G64.SchemeName };

    /// <summary>Timed repetitions per case (median reported).</summary>
    public int Repetitions { get; init; } = 30;

    /// <summary>Untimed launches before timing.</summary>
    public int Warmup { get; init; } = 5;

    /// <summary>Skip cases whose naive FLOP count would take longer than this many seconds at 1 TFLOP/s.</summary>
    public double MaxTeraFlop { get; init; } = 200;

    public string Device { get; init; } = "auto";

    /// <summary>With <c>--decode LAYERS</c>: time whole decode steps of a decoder of this many layers (<see cref="DecodeBench"/>) instead of GEMV/GEMM cases.</summary>
    public int DecodeLayers { get; init; }

    /// <summary>The decoder's dim, hidden dim, heads and kv heads for <c>--decode</c> (<c>--decode-shape</c>); Llama-3-8B's by default.</summary>
    public (int Dim, int Hidden, int Heads, int KvHeads) DecodeShape { get; init; } = (4096, 14336, 32, 8);

    public string? JsonPath { get; init; }

    /// <summary>Also time every tensor-core case (M ≥ 2) with the float32 tiled GEMM (tensor cores off), as the same run's baseline.</summary>
    public bool CompareTiled { get; init; }

    /// <summary>x rounded to int8 where that kernel pays (<c>--int8-x</c>;
    /// <see cref="KernelGen.Layers.QuantLinear{TScheme}.QuantizeActivations"/>).</summary>
    public bool QuantizeActivations { get; init; }

    /// <summary>What the device does when each timed launch's start event is recorded (<c>--start</c>).</summary>
    public TimedStart Start { get; init; } = TimedStart.Spin;

    public const string Usage = """
        usage: kernelgen bench [--device cpu|opencl|cuda|auto] [--shapes 4096x4096,8192x8192,...] [--m 1,16,128,2048]
                               [--schemes q4g128,q4g128s,q8pcs,q3g128,q2g64] [--reps 30] [--warmup 5] [--json FILE] [--compare-tiled]
                               [--start spin|flush|idle] [--int8-x]
               kernelgen bench --decode LAYERS [--decode-shape 4096,14336,32,8] [--device D] [--schemes q4g128,...] [--reps 30] [--warmup 5] [--json FILE]
        Checks each case on the device against a float64 CPU reference, then times it with device events around each
        launch, the launch queued behind a one-thread spin kernel so that the events bracket the kernel, not the host's
        launch latency (flush: behind a 256 MiB clear, as triton.testing.do_bench times the peers; idle: from an idle
        device, host latency included).
        --decode times whole decode steps instead (wall clock per token, host attention and copies included) of a
        decoder with those layer shapes (dim, hidden, heads, kv heads; Llama-3-8B's by default) and random weights, q, k
        and v (and gate and up) stacked into one launch each against seven launches per layer. In the warm-up steps
        every projection of both models is checked against float64 over the x it read; with f16 x the two models'
        logits must also agree to 1e-3 of the largest (with int8 x they are reported: see gemv.md, session 33).
        --int8-x rounds x to int8 per 128 columns and row where that kernel runs faster (Int8ActivationGemv.Pays: every
        batch of up to 16 rows, 2- and 3-bit decode; 4- and 8-bit decode on grids of more row blocks than SMs, 4-bit also
        on grids of at most one block per two SMs); its rel.err against float64 over x itself shows what that rounding
        costs.
        """;

    public static BenchOptions Parse(IReadOnlyList<string> args)
    {
        var options = new BenchOptions();
        for (int i = 0; i < args.Count; i++)
        {
            string name = args[i];
            string Value() => i + 1 < args.Count ? args[++i] : throw new ArgumentException($"{name} needs a value.\n{Usage}");
            options = name switch
            {
                "--device" => options with { Device = Value() },
                "--shapes" => options with { Shapes = Value().Split(',').Select(ParseShape).ToArray() },
                "--m" => options with { BatchSizes = Value().Split(',').Select(v => ParsePositive(v, "--m")).ToArray() },
                "--schemes" => options with { Schemes = Value().Split(',').Select(SchemeRegistry.Check).ToArray() },
                "--reps" => options with { Repetitions = ParsePositive(Value(), "--reps") },
                "--warmup" => options with { Warmup = ParsePositive(Value(), "--warmup") },
                "--max-tflop" => options with { MaxTeraFlop = double.Parse(Value(), CultureInfo.InvariantCulture) },
                "--json" => options with { JsonPath = Value() },
                "--compare-tiled" => options with { CompareTiled = true },
                "--int8-x" => options with { QuantizeActivations = true },
                "--start" => options with { Start = ParseStart(Value()) },
                "--decode" => options with { DecodeLayers = ParsePositive(Value(), "--decode") },
                "--decode-shape" => options with { DecodeShape = ParseDecodeShape(Value()) },
                _ => throw new ArgumentException($"Unknown option '{name}'.\n{Usage}"),
            };
        }

        return options;
    }

    private static TimedStart ParseStart(string text) => text switch
    {
        "spin" => TimedStart.Spin,
        "flush" => TimedStart.Flush,
        "idle" => TimedStart.Idle,
        _ => throw new ArgumentException($"--start: '{text}' is not spin, flush or idle.\n{Usage}"),
    };

    private static (int Dim, int Hidden, int Heads, int KvHeads) ParseDecodeShape(string text)
    {
        var parts = text.Split(',');
        if (parts.Length != 4)
        {
            throw new ArgumentException($"--decode-shape: '{text}' is not DIM,HIDDEN,HEADS,KVHEADS (e.g. 4096,14336,32,8).");
        }

        return (ParsePositive(parts[0], "--decode-shape"), ParsePositive(parts[1], "--decode-shape"), ParsePositive(parts[2], "--decode-shape"), ParsePositive(parts[3], "--decode-shape"));
    }

    private static (int N, int K) ParseShape(string text)
    {
        var parts = text.ToLowerInvariant().Split('x');
        if (parts.Length != 2)
        {
            throw new ArgumentException($"Shape '{text}' is not NxK (e.g. 4096x4096).");
        }

        return (ParsePositive(parts[0], "--shapes"), ParsePositive(parts[1], "--shapes"));
    }

    private static int ParsePositive(string text, string option)
        => int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out int value) && value > 0
            ? value
            : throw new ArgumentException($"{option}: '{text}' is not a positive integer.");
}

/// <summary>What the device is doing when a timed launch's start event is recorded.</summary>
internal enum TimedStart
{
    /// <summary>Running a one-thread spin kernel (tens of µs, no memory traffic) queued just before: the host's launch
    /// latency is hidden and L2 is left as the previous launch left it (the weights rotate among copies larger than
    /// L2, so they are not in it).</summary>
    Spin,

    /// <summary>Clearing 256 MiB queued just before, as <c>triton.testing.do_bench</c> (torch_anchors.py) times the
    /// peers: latency hidden and L2 emptied, but of dirty lines the timed kernel's reads must write back (measured on
    /// an H100: 0–9 % slower than <see cref="Spin"/> on weights over 30 MB).</summary>
    Flush,

    /// <summary>Idle (the only method until session 10): the time includes the host's launch latency (measured on an
    /// H100: ~4 µs on a 4096² GEMV).</summary>
    Idle,
}
