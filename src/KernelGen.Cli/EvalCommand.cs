using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;
using KernelGen.Evaluation;
using KernelGen.Formats.Gguf;
using KernelGen.Layers;
using KernelGen.Models;
using KernelGen.Quantization;

namespace KernelGen.Cli;

/// <summary><c>kernelgen eval BASE --compare C1 [C2 ...] --text FILE [--calib FILE] [--tasks FILE] --report DIR</c>.</summary>
internal static class EvalCommand
{
    public const string Usage = """
        usage: kernelgen eval BASE --compare C1 [C2 ...] --text FILE [--calib FILE] [--tasks FILE.jsonl] [--report DIR]
                              [--chunk N] [--max-chunks N] [--task-tokens N] [--tokenizer FILE]
        BASE is the float decoder (llama2.c .bin, GGUF, or Hugging Face directory). Each Ci is either a model file (e.g. a
        GGUF written by 'kernelgen quantize') or [METHOD:]SCHEME, quantized here from BASE: METHOD is rtn (default), rtn-clip,
        gptq, gptq-act (activation order), awq (with its clip search) or awq-noclip (the GPTQ and AWQ ones need --calib, text
        separate from --text); SCHEME is one of SCHEMES.
        Reports perplexity (non-overlapping chunks of N tokens, default min(256, seq_len − 1), each after a BOS), KL
        divergence from BASE (mean, p99, max), same-top-1, per-projection relative output error, and task accuracy with
        the verdict rule; writes report.md, metrics.json and PNG plots to DIR (default ./eval-report).
        A BERT-family encoder as BASE (.onnx, or a Hugging Face directory with model_type bert) is compared by embeddings
        instead: 1 − cosine and recall@10 (see 'kernelgen eval MODEL.onnx' for its options).
        """;

    public static int Run(string[] args)
    {
        if (args.Length == 0 || args[0].StartsWith('-'))
        {
            Console.Error.WriteLine(Usage.Replace("SCHEMES", string.Join(", ", SchemeRegistry.Names), StringComparison.Ordinal));
            return 2;
        }

        string basePath = args[0];
        if (EncoderEvalCommand.IsEncoder(basePath))
        {
            return EncoderEvalCommand.Run(args);
        }

        var compare = new List<string>();
        string? textPath = null, calibPath = null, tasksPath = null, tokenizerPath = null;
        string reportDir = "eval-report";
        int chunk = 0, maxChunks = 64, taskTokens = 24;
        for (int i = 1; i < args.Length; i++)
        {
            string name = args[i];
            string Value() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{name} needs a value.\n{Usage}");
            switch (name)
            {
                case "--compare": compare.AddRange(Values(args, ref i)); break;
                case "--text": textPath = Value(); break;
                case "--calib": calibPath = Value(); break;
                case "--tasks": tasksPath = Value(); break;
                case "--report": reportDir = Value(); break;
                case "--tokenizer": tokenizerPath = Value(); break;
                case "--chunk": chunk = PositiveInt(Value(), name); break;
                case "--max-chunks": maxChunks = PositiveInt(Value(), name); break;
                case "--task-tokens": taskTokens = PositiveInt(Value(), name); break;
                default: throw new ArgumentException($"Unknown option '{name}'.\n{Usage}");
            }
        }

        if (compare.Count == 0 || textPath is null)
        {
            throw new ArgumentException($"eval needs --compare with at least one model or scheme, and --text.\n{Usage}");
        }

        RequireFile(textPath, "--text");
        if (calibPath is not null)
        {
            RequireFile(calibPath, "--calib");
            if (Path.GetFullPath(calibPath) == Path.GetFullPath(textPath))
            {
                throw new ArgumentException($"--calib and --text are the same file ('{textPath}'): calibrating on the evaluation text overstates GPTQ and AWQ. Use separate text.");
            }
        }

        if (tasksPath is not null)
        {
            RequireFile(tasksPath, "--tasks");
        }

        var (weights, tokenizer) = ConsoleProgress.Run("loading " + Path.GetFileName(Path.TrimEndingDirectorySeparator(basePath)), _ => ModelLoader.LoadDecoder(basePath, tokenizerPath));
        int chunkLength = chunk > 0 ? chunk : Math.Min(256, weights.Config.SeqLen - 1);
        if (chunkLength >= weights.Config.SeqLen)
        {
            throw new ArgumentException($"--chunk {chunkLength} leaves no room for BOS in the model's {weights.Config.SeqLen} positions: use at most {weights.Config.SeqLen - 1}.");
        }

        var textTokens = tokenizer.Encode(File.ReadAllText(textPath), bos: false, eos: false);
        var chunks = DecoderEvaluation.Chunk(textTokens, chunkLength, maxChunks);
        if (chunks.Count == 0)
        {
            throw new ArgumentException($"'{textPath}' is {textTokens.Count} tokens, shorter than one chunk of {chunkLength}: give more text or a smaller --chunk.");
        }

        List<IReadOnlyList<int>>? calibration = null;
        if (calibPath is not null)
        {
            var calibTokens = tokenizer.Encode(File.ReadAllText(calibPath), bos: false, eos: false);
            calibration = DecoderEvaluation.Chunk(calibTokens, chunkLength, 32)
                .Select(c => (IReadOnlyList<int>)c.Prepend(tokenizer.BosId).ToArray()).ToList();
            if (calibration.Count == 0)
            {
                throw new ArgumentException($"'{calibPath}' is {calibTokens.Count} tokens, shorter than one chunk of {chunkLength}.");
            }
        }

        var candidates = new List<DecoderCandidate>();
        try
        {
            foreach (string spec in compare)
            {
                candidates.Add(ConsoleProgress.Run("preparing " + spec, report => Candidate(spec, weights, calibration, report)));
            }

            using var baseline = LlamaModel.CreateDense(weights);
            var (baseMetrics, results) = ConsoleProgress.Run(
                $"evaluating {chunks.Count} chunks × {chunkLength} tokens",
                report => DecoderEvaluation.Evaluate(baseline, candidates, chunks, tokenizer.BosId, f => report(f, "perplexity and KL")));

            List<TaskOutcome>? baseTasks = null;
            var candidateTasks = new List<List<TaskOutcome>>();
            if (tasksPath is not null)
            {
                var items = TaskSuite.Load(tasksPath);
                baseTasks = ConsoleProgress.Run("tasks: float model", _ => TaskSuite.Run(baseline, tokenizer, items, taskTokens));
                foreach (var candidate in candidates)
                {
                    candidateTasks.Add(ConsoleProgress.Run("tasks: " + candidate.Name, _ => TaskSuite.Run(candidate.Model, tokenizer, items, taskTokens)));
                }
            }

            var context = new EvalReport.Context(
                Path.GetFileName(Path.TrimEndingDirectorySeparator(basePath)), Path.GetFileName(textPath), calibPath is null ? null : Path.GetFileName(calibPath),
                textTokens.Count, baseMetrics, results, baseTasks, candidateTasks);
            string written = EvalReport.Write(reportDir, context);
            Console.WriteLine(EvalReport.SummaryTable(context));
            Console.WriteLine();
            Console.WriteLine(EvalReport.Verdicts(context));
            Console.WriteLine($"report: {written}");
            return 0;
        }
        finally
        {
            foreach (var candidate in candidates)
            {
                candidate.Model.Dispose();
            }
        }
    }

    private static DecoderCandidate Candidate(string spec, LlamaWeights weights, IReadOnlyList<IReadOnlyList<int>>? calibration, Action<double, string> report)
    {
        if (File.Exists(spec) || Directory.Exists(spec))
        {
            report(0, "loading");
            var (loaded, bits, awq) = ModelLoader.LoadDecoderWeights(spec);
            if (loaded.Config with { SeqLen = weights.Config.SeqLen } != weights.Config with { SeqLen = weights.Config.SeqLen })
            {
                throw new ArgumentException($"'{spec}' has shape {loaded.Config}, not the base model's {weights.Config}: compare compressed copies of the same model.");
            }

            // An AWQ file's projections see inputs divided by its scales: compare each with the folded float version.
            var reference = awq is null ? weights : LlamaQuantizer.Fold(weights, awq);
            return DecoderEvaluation.Probe(Path.GetFileName(Path.TrimEndingDirectorySeparator(spec)), bits, loaded, reference, (_, w, rows, cols) => new DenseLinear(w, rows, cols));
        }

        int colon = spec.IndexOf(':', StringComparison.Ordinal);
        string method = colon < 0 ? "rtn" : spec[..colon].ToLowerInvariant();
        string scheme = SchemeRegistry.Check(colon < 0 ? spec : spec[(colon + 1)..]);
        if (method is not ("rtn" or "rtn-clip" or "gptq" or "gptq-act" or "awq" or "awq-noclip"))
        {
            throw new ArgumentException($"'{spec}': method '{method}' is not rtn, rtn-clip, gptq, gptq-act, awq or awq-noclip (and no file of that name exists).");
        }

        if (method is "gptq" or "gptq-act" or "awq" or "awq-noclip" && calibration is null)
        {
            throw new ArgumentException($"'{spec}' needs calibration text: pass --calib FILE (separate from --text).");
        }

        return SchemeRegistry.Visit(scheme, new CandidateVisitor(spec, method, weights, calibration, report));
    }

    /// <summary>The values after option <c>args[i]</c>, up to the next "--" option; advances <paramref name="i"/>.</summary>
    internal static List<string> Values(string[] args, ref int i)
    {
        var values = new List<string>();
        while (i + 1 < args.Length && !args[i + 1].StartsWith("--", StringComparison.Ordinal))
        {
            values.Add(args[++i]);
        }

        return values;
    }

    private static int PositiveInt(string text, string option)
        => int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out int value) && value > 0 ? value
            : throw new ArgumentException($"{option}: '{text}' is not a positive integer.");

    private static void RequireFile(string path, string option)
    {
        if (!File.Exists(path))
        {
            throw new ArgumentException($"{option} '{path}' does not exist.");
        }
    }

    private sealed class CandidateVisitor : SchemeRegistry.IVisitor<DecoderCandidate>
    {
        private readonly string spec;
        private readonly string method;
        private readonly LlamaWeights weights;
        private readonly IReadOnlyList<IReadOnlyList<int>>? calibration;
        private readonly Action<double, string> report;

        public CandidateVisitor(string spec, string method, LlamaWeights weights, IReadOnlyList<IReadOnlyList<int>>? calibration, Action<double, string> report)
        {
            this.spec = spec;
            this.method = method;
            this.weights = weights;
            this.calibration = calibration;
            this.report = report;
        }

        public DecoderCandidate Visit<TScheme>()
            where TScheme : struct, IQuantScheme
        {
            report(0, method);

            // Evaluated on the host with the dequantized weights: the numbers the device kernels multiply by, without
            // the CPU accelerator's simulated threads. AWQ runs as it is deployed: scales folded into the norms and v/up
            // rows, so the model runs its folded float weights and each projection is compared with its folded version.
            var model = weights;
            Dictionary<string, QuantizedMatrix<TScheme>> quantized;
            if (method is "awq" or "awq-noclip")
            {
                var awq = LlamaQuantizer.Awq<TScheme>(weights, calibration!, clipSearch: method == "awq");
                (model, quantized) = (awq.Folded, awq.Quantized);
            }
            else
            {
                quantized = method switch
                {
                    "rtn" => LlamaQuantizer.Rtn<TScheme>(weights),
                    "rtn-clip" => LlamaQuantizer.RtnClipped<TScheme>(weights),
                    "gptq" => LlamaQuantizer.Gptq<TScheme>(weights, calibration!),
                    _ => LlamaQuantizer.Gptq<TScheme>(weights, calibration!, new GptqOptions(ActOrder: true)),
                };
            }

            // KERNELGEN_INT8_X=1: x rounded to int8 before every compressed projection, as decode rounds it on CUDA.
            bool roundX = QuantLinear<TScheme>.QuantizeActivationsByDefault;
            long stored = 0, count = 0;
            var candidate = DecoderEvaluation.Probe(roundX ? spec + " (int8 x)" : spec, 0, model, model, (name, _, rows, cols) =>
            {
                var matrix = quantized[name];
                stored += (long)(TScheme.Info.BitsPerWeight(matrix.Cols) * rows * matrix.Cols);
                count += (long)rows * cols;
                var dense = new DenseLinear(LlamaQuantizer.TrimColumns(matrix.Dequantize(), rows, cols), rows, cols);
                return roundX ? new RoundedActivationsLinear(dense) : dense;
            });
            return candidate with { BitsPerWeight = stored / (double)count };
        }
    }
}
