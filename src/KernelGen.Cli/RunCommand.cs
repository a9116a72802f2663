using System;
using System.Diagnostics;
using System.Globalization;
using System.IO;
using KernelGen.Backends;
using KernelGen.Formats.Llama2C;
using KernelGen.Models;

namespace KernelGen.Cli;

/// <summary><c>kernelgen run MODEL --prompt TEXT [--scheme S] [--device D] [-n N] [--temperature T] [--top-p P] [--seed S]</c>.</summary>
internal static class RunCommand
{
    public const string Usage = """
        usage: kernelgen run MODEL.bin|MODEL.gguf [--prompt TEXT] [--tokenizer tok.bin] [--scheme q4g128|q4g128s|q8pcs|q3g128|q2g64|none]
                                      [--device cpu|opencl|cuda|auto] [-n STEPS] [--temperature T] [--top-p P] [--seed S]
        Runs a llama2.c checkpoint (tokenizer: tokenizer.bin or tok512.bin beside it) or a Llama GGUF (tokenizer from its metadata).
        With --scheme, every projection is quantized with that scheme and runs on the device; without, float32 on the host.
        """;

    public static int Run(string[] args)
    {
        if (args.Length == 0 || args[0].StartsWith('-'))
        {
            Console.Error.WriteLine(Usage);
            return 2;
        }

        string modelPath = args[0], prompt = string.Empty, scheme = "none", device = "auto";
        string? tokenizerPath = null;
        int steps = 256, seed = 0;
        float temperature = 0f, topP = 0.9f;
        for (int i = 1; i < args.Length; i++)
        {
            string name = args[i];
            string Value() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{name} needs a value.\n{Usage}");
            switch (name)
            {
                case "--prompt": prompt = Value(); break;
                case "--tokenizer": tokenizerPath = Value(); break;
                case "--scheme": scheme = Value(); break;
                case "--device": device = Value(); break;
                case "-n": steps = ParseInt(Value(), "-n"); break;
                case "--seed": seed = ParseInt(Value(), "--seed"); break;
                case "--temperature": temperature = ParseFloat(Value(), "--temperature"); break;
                case "--top-p": topP = ParseFloat(Value(), "--top-p"); break;
                default: throw new ArgumentException($"Unknown option '{name}'.\n{Usage}");
            }
        }

        if (!File.Exists(modelPath))
        {
            throw new ArgumentException($"Model file '{modelPath}' does not exist.");
        }

        var stopwatch = Stopwatch.StartNew();
        LlamaWeights weights;
        Llama2CTokenizer tokenizer;
        if (modelPath.EndsWith(".gguf", StringComparison.OrdinalIgnoreCase))
        {
            var gguf = KernelGen.Formats.Gguf.GgufFile.Load(modelPath);
            weights = KernelGen.Formats.Gguf.GgufLlama.LoadWeights(gguf);
            tokenizer = tokenizerPath is null ? KernelGen.Formats.Gguf.GgufLlama.LoadTokenizer(gguf) : Llama2CTokenizer.Load(tokenizerPath, weights.Config.VocabSize);
        }
        else
        {
            weights = Llama2CCheckpoint.Load(modelPath);
            tokenizer = Llama2CTokenizer.Load(tokenizerPath ?? FindTokenizer(modelPath), weights.Config.VocabSize);
        }

        ComputeDevice? compute = null;
        try
        {
            LlamaModel model;
            if (scheme == "none")
            {
                model = LlamaModel.CreateDense(weights);
            }
            else
            {
                compute = ComputeDevice.Create(ComputeDevice.ParseKind(device, "--device"));
                model = SchemeRegistry.Visit(scheme, new QuantizeVisitor(weights, compute));
            }

            using (model)
            {
                var c = weights.Config;
                Console.Error.WriteLine($"model   {Path.GetFileName(modelPath)}: dim {c.Dim}, {c.Layers} layers, {c.Heads} heads ({c.KvHeads} kv), vocab {c.VocabSize}, loaded in {stopwatch.ElapsedMilliseconds} ms");
                Console.Error.WriteLine(compute is null ? "weights float32 on the host" : $"weights {scheme}, every projection on {compute}");
                var sampler = new Sampler(c.VocabSize, temperature, topP, seed);
                stopwatch.Restart();
                var tokens = TextGenerator.Generate(model, tokenizer, prompt, steps, sampler, Console.Write);
                double seconds = stopwatch.Elapsed.TotalSeconds;
                Console.WriteLine();
                Console.Error.WriteLine(FormattableString.Invariant($"{tokens.Count - 1} tokens in {seconds:F2} s ({(tokens.Count - 1) / seconds:F1} tok/s)"));
            }
        }
        finally
        {
            compute?.Dispose();
        }

        return 0;
    }

    private static string FindTokenizer(string modelPath)
    {
        var directory = Path.GetDirectoryName(Path.GetFullPath(modelPath))!;
        foreach (var name in new[] { "tokenizer.bin", "tok512.bin" })
        {
            var candidate = Path.Combine(directory, name);
            if (File.Exists(candidate))
            {
                return candidate;
            }
        }

        throw new ArgumentException($"No tokenizer.bin or tok512.bin beside '{modelPath}': pass --tokenizer FILE.");
    }

    private static int ParseInt(string text, string option)
        => int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out int value) ? value : throw new ArgumentException($"{option}: '{text}' is not an integer.");

    private static float ParseFloat(string text, string option)
        => float.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out float value) ? value : throw new ArgumentException($"{option}: '{text}' is not a number.");

    private sealed class QuantizeVisitor : SchemeRegistry.IVisitor<LlamaModel>
    {
        private readonly LlamaWeights weights;
        private readonly ComputeDevice device;

        public QuantizeVisitor(LlamaWeights weights, ComputeDevice device)
        {
            this.weights = weights;
            this.device = device;
        }

        public LlamaModel Visit<TScheme>()
            where TScheme : struct, IQuantScheme
            => LlamaModel.CreateQuantized<TScheme>(weights, device);
    }
}
