using System;
using System.Diagnostics;
using System.Globalization;
using System.IO;
using KernelGen.Backends;
using KernelGen.Formats.Gguf;
using KernelGen.Layers;
using KernelGen.Models;

namespace KernelGen.Cli;

/// <summary><c>kernelgen run MODEL --prompt TEXT [--scheme S] [--device D] [-n N] [--temperature T] [--top-p P] [--seed S]</c>.</summary>
internal static class RunCommand
{
    public const string Usage = """
        usage: kernelgen run MODEL [--prompt TEXT] [--tokenizer tok.bin|tokenizer.model] [--scheme q4g128|q4g128s|q8pcs|q3g128|q2g64|none]
                                      [--device cpu|opencl|cuda|auto] [-n STEPS] [--temperature T] [--top-p P] [--seed S]
        MODEL is a llama2.c checkpoint (.bin; tokenizer.bin or tok512.bin beside it), a Llama GGUF (tokenizer from its
        metadata) or a Hugging Face Llama directory (config.json, *.safetensors, tokenizer.model).
        With --scheme, every projection is quantized with that scheme and runs on the device; without, float32 on the host.
        A GGUF written by `kernelgen quantize --scheme S` runs its stored codes on the device (no --scheme needed).
        """;

    public static int Run(string[] args)
    {
        if (args.Length == 0 || args[0].StartsWith('-'))
        {
            Console.Error.WriteLine(Usage);
            return 2;
        }

        string modelPath = args[0], prompt = string.Empty, device = "auto";
        string? scheme = null;
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

        var stopwatch = Stopwatch.StartNew();

        // A GGUF is read once: the decoder comes from it, and a file in a generated scheme's layout runs the codes it
        // stores, so its projections are not also dequantized to float32 (a 4-bit model would take 8× its size).
        GgufFile? gguf = null;
        var (weights, tokenizer) = ConsoleProgress.Run($"loading {Path.GetFileName(Path.TrimEndingDirectorySeparator(modelPath))}", report =>
        {
            report(0, "reading");
            if (File.Exists(modelPath) && modelPath.EndsWith(".gguf", StringComparison.OrdinalIgnoreCase))
            {
                gguf = GgufFile.Load(modelPath);
                return ModelLoader.LoadDecoder(gguf, tokenizerPath, dequantizeSchemeCodes: false);
            }

            return ModelLoader.LoadDecoder(modelPath, tokenizerPath);
        });

        var stored = gguf is null ? null : GgufSchemeTensors.ReadScheme(gguf);
        if (stored is not null && scheme is not null && !string.Equals(scheme, stored.Name, StringComparison.OrdinalIgnoreCase))
        {
            throw new ArgumentException($"{Path.GetFileName(modelPath)} is stored in {stored}; run it without --scheme, or quantize the float model to {scheme}.");
        }

        scheme ??= stored?.Name ?? "none";

        // The prompt must fit the step budget: said now, before a device opens or a model is quantized.
        TextGenerator.EncodePrompt(tokenizer, prompt, steps, weights.Config.SeqLen);
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
                model = ConsoleProgress.Run(stored is null ? $"quantizing to {scheme}" : $"loading its {scheme} codes", report => SchemeRegistry.Visit(
                    scheme,
                    stored is null ? (SchemeRegistry.IVisitor<LlamaModel>)new QuantizeVisitor(weights, compute, report) : new StoredVisitor(gguf!, weights, compute)));
            }

            using (model)
            {
                var c = weights.Config;
                Console.Error.WriteLine($"model   {Path.GetFileName(modelPath)}: dim {c.Dim}, {c.Layers} layers, {c.Heads} heads ({c.KvHeads} kv), vocab {c.VocabSize}, loaded in {stopwatch.ElapsedMilliseconds} ms");
                Console.Error.WriteLine(compute is null ? "weights float32 on the host"
                    : $"weights {scheme}{(stored is null ? string.Empty : " (as stored)")}, every projection on {compute}");
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

    private static int ParseInt(string text, string option)
        => int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out int value) ? value : throw new ArgumentException($"{option}: '{text}' is not an integer.");

    private static float ParseFloat(string text, string option)
        => float.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out float value) ? value : throw new ArgumentException($"{option}: '{text}' is not a number.");

    private sealed class QuantizeVisitor : SchemeRegistry.IVisitor<LlamaModel>
    {
        private readonly LlamaWeights weights;
        private readonly ComputeDevice device;
        private readonly Action<double, string> report;

        public QuantizeVisitor(LlamaWeights weights, ComputeDevice device, Action<double, string> report)
        {
            this.weights = weights;
            this.device = device;
            this.report = report;
        }

        public LlamaModel Visit<TScheme>()
            where TScheme : struct, IQuantScheme
        {
            int done = 0, total = weights.Config.Layers * 7;
            return LlamaModel.Create(weights, (name, w, rows, cols) =>
            {
                report((double)done++ / total, name);
                return new QuantizedLinear<TScheme>(device, w.Span, rows, cols);
            });
        }
    }

    /// <summary>A model whose projections are the codes a scheme GGUF stores (<see cref="GgufSchemeTensors"/>).</summary>
    private sealed class StoredVisitor : SchemeRegistry.IVisitor<LlamaModel>
    {
        private readonly GgufFile file;
        private readonly LlamaWeights weights;
        private readonly ComputeDevice device;

        public StoredVisitor(GgufFile file, LlamaWeights weights, ComputeDevice device)
        {
            this.file = file;
            this.weights = weights;
            this.device = device;
        }

        public LlamaModel Visit<TScheme>()
            where TScheme : struct, IQuantScheme
            => LlamaModel.Create(weights, (name, _, rows, cols) => new QuantizedLinear<TScheme>(device, GgufSchemeTensors.Read<TScheme>(file, name + ".weight", rows, cols), cols));
    }
}
