using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Text;
using System.Text.Json;
using KernelGen.Evaluation;
using KernelGen.Formats.Onnx;
using KernelGen.Formats.Safetensors;
using KernelGen.Models;
using KernelGen.Quantization;

namespace KernelGen.Cli;

/// <summary>
/// <c>kernelgen eval ENCODER --compare [rtn|gptq|awq:]SCHEME ... --text FILE [--calib FILE] [--report DIR]</c>: compressed
/// BERT-family encoders against the float one, sentence by sentence: 1 − cosine of the embeddings (mean, p99, max)
/// and nearest-neighbour recall@10 over the evaluation sentences. <see cref="EvalCommand"/> sends encoders here.
/// </summary>
internal static class EncoderEvalCommand
{
    public const string Usage = """
        usage: kernelgen eval ENCODER --compare C1 [C2 ...] --text FILE [--calib FILE] [--report DIR] [--vocab vocab.txt] [--heads 12]
        ENCODER is a BERT-family sentence encoder (PyTorch-exported ONNX, or a Hugging Face directory with model_type bert).
        Each Ci is [METHOD:]SCHEME, quantized here: METHOD is rtn (default), gptq or awq (those two need --calib, text
        separate from --text); SCHEME is one of SCHEMES. --text and --calib hold sentences, one per line.
        Reports, per candidate, 1 − cosine between its embeddings and the float encoder's (mean, p99, max) and
        nearest-neighbour recall@10 of its embeddings against the float ones; writes report.md, metrics.json and PNG
        plots to DIR (default ./eval-report).
        """;

    private static string UsageText => Usage.Replace("SCHEMES", string.Join(", ", SchemeRegistry.Names), StringComparison.Ordinal);

    /// <summary>True when <paramref name="path"/> is an encoder this command evaluates (an ONNX file, or a Hugging Face
    /// directory whose config.json says model_type bert).</summary>
    public static bool IsEncoder(string path)
    {
        if (path.EndsWith(".onnx", StringComparison.OrdinalIgnoreCase))
        {
            return true;
        }

        string config = Directory.Exists(path) ? Path.Combine(path, "config.json") : path;
        if (!Path.GetFileName(config).Equals("config.json", StringComparison.Ordinal) || !File.Exists(config))
        {
            return false;
        }

        try
        {
            using var json = JsonDocument.Parse(File.ReadAllText(config));
            return json.RootElement.TryGetProperty("model_type", out var type) && type.ValueKind == JsonValueKind.String && type.GetString() == "bert";
        }
        catch (JsonException)
        {
            return false; // the decoder loader reports a malformed config with its own message
        }
    }

    public static int Run(string[] args)
    {
        string basePath = args[0];
        var compare = new List<string>();
        string? textPath = null, calibPath = null, vocab = null;
        string reportDir = "eval-report";
        int heads = 12;
        for (int i = 1; i < args.Length; i++)
        {
            string name = args[i];
            string Value() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{name} needs a value.\n{UsageText}");
            switch (name)
            {
                case "--compare": compare.AddRange(EvalCommand.Values(args, ref i)); break;
                case "--text": textPath = Value(); break;
                case "--calib": calibPath = Value(); break;
                case "--report": reportDir = Value(); break;
                case "--vocab": vocab = Value(); break;
                case "--heads":
                    string h = Value();
                    heads = int.TryParse(h, NumberStyles.Integer, CultureInfo.InvariantCulture, out heads) && heads > 0 ? heads
                        : throw new ArgumentException($"--heads: '{h}' is not a positive integer.");
                    break;
                default: throw new ArgumentException($"Unknown option '{name}' for an encoder.\n{UsageText}");
            }
        }

        if (compare.Count == 0 || textPath is null)
        {
            throw new ArgumentException($"eval needs --compare with at least one scheme, and --text.\n{UsageText}");
        }

        var sentences = Sentences(textPath, "--text");
        if (sentences.Length < 11)
        {
            throw new ArgumentException($"--text '{textPath}' has {sentences.Length} sentences; recall@10 needs at least 11 (one per line).");
        }

        string[]? calibration = null;
        if (calibPath is not null)
        {
            if (Path.GetFullPath(calibPath) == Path.GetFullPath(textPath))
            {
                throw new ArgumentException($"--calib and --text are the same file ('{textPath}'): calibrating on the evaluation text overstates GPTQ and AWQ. Use separate text.");
            }

            calibration = Sentences(calibPath, "--calib");
        }

        var specs = compare.Select(spec =>
        {
            int colon = spec.IndexOf(':', StringComparison.Ordinal);
            string method = colon < 0 ? "rtn" : spec[..colon].ToLowerInvariant();
            string scheme = SchemeRegistry.Check(colon < 0 ? spec : spec[(colon + 1)..]);
            if (method is not ("rtn" or "gptq" or "awq"))
            {
                throw new ArgumentException($"'{spec}': method '{method}' is not rtn, gptq or awq (for encoders).");
            }

            if (method != "rtn" && calibration is null)
            {
                throw new ArgumentException($"'{spec}' needs calibration sentences: pass --calib FILE (separate from --text).");
            }

            return (Spec: spec, Method: method, Scheme: scheme);
        }).ToList();

        vocab ??= Path.Combine(Directory.Exists(basePath) ? basePath : Path.GetDirectoryName(Path.GetFullPath(basePath))!, "vocab.txt");
        if (!File.Exists(vocab))
        {
            throw new ArgumentException($"Vocabulary '{vocab}' does not exist: pass --vocab FILE (the encoder's WordPiece vocab.txt).");
        }

        var weights = ConsoleProgress.Run($"loading {Path.GetFileName(Path.TrimEndingDirectorySeparator(basePath))}", _ =>
        {
            if (ModelLoader.IsHuggingFace(basePath))
            {
                using var checkpoint = HuggingFaceCheckpoint.Open(basePath);
                return HuggingFaceModels.LoadBert(checkpoint);
            }

            using var stream = File.OpenRead(basePath);
            return OnnxBert.Load(stream, heads, Path.GetFileName(basePath));
        });
        Microsoft.ML.Tokenizers.BertTokenizer tokenizer;
        using (var vocabulary = File.OpenRead(vocab))
        {
            tokenizer = BertModel.CreateUncasedTokenizer(vocabulary);
        }

        float[][] reference;
        using (var dense = BertModel.CreateDense(weights, tokenizer))
        {
            reference = ConsoleProgress.Run($"float encoder: {sentences.Length} sentences", _ => dense.Embed(sentences));
        }

        var results = new List<EncoderMetrics>();
        foreach (var (spec, method, scheme) in specs)
        {
            results.Add(ConsoleProgress.Run(spec, _ => SchemeRegistry.Visit(scheme, new CandidateVisitor(spec, method, weights, tokenizer, calibration, reference, sentences))));
        }

        var context = new Context(Path.GetFileName(Path.TrimEndingDirectorySeparator(basePath)), Path.GetFileName(textPath), calibPath is null ? null : Path.GetFileName(calibPath), sentences.Length, results);
        string written = EvalReport.WriteDirectory(reportDir, staging =>
        {
            PlotDistribution(Path.Combine(staging, "cosine-distribution.png"), results);
            PlotBits(Path.Combine(staging, "bits-vs-cosine.png"), results);
            File.WriteAllText(Path.Combine(staging, "metrics.json"), Json(context));
            File.WriteAllText(Path.Combine(staging, "report.md"), Markdown(context));
        });
        Console.WriteLine(Table(context));
        Console.WriteLine($"report: {written}");
        return 0;
    }

    /// <summary>The evaluation's inputs and results.</summary>
    private sealed record Context(string BaseName, string TextName, string? CalibrationName, int Sentences, IReadOnlyList<EncoderMetrics> Candidates);

    /// <summary>Non-empty lines, trimmed (blank lines and duplicates dropped).</summary>
    internal static string[] Sentences(string path, string option)
    {
        if (!File.Exists(path))
        {
            throw new ArgumentException($"{option} '{path}' does not exist.");
        }

        return File.ReadAllLines(path).Select(l => l.Trim()).Where(l => l.Length > 0).Distinct(StringComparer.Ordinal).ToArray();
    }

    private static string Table(Context c)
    {
        var b = new StringBuilder();
        b.AppendLine("| model | bits/weight | mean 1 − cos | p99 1 − cos | max 1 − cos | recall@10 |");
        b.AppendLine("|---|---:|---:|---:|---:|---:|");
        b.AppendLine(Invariant($"| {c.BaseName} (float32) | 32 | – | – | – | – |"));
        foreach (var m in c.Candidates)
        {
            b.AppendLine(Invariant($"| {m.Name} | {m.BitsPerWeight:F3} | {m.MeanOneMinusCosine:E2} | {Statistics.Percentile(m.OneMinusCosine, 0.99):E2} | {m.MaxOneMinusCosine:E2} | {m.RecallAt10:P1} |"));
        }

        return b.ToString().TrimEnd();
    }

    private static string Markdown(Context c)
    {
        var b = new StringBuilder();
        b.AppendLine(Invariant($"# Where compressing {c.BaseName} loses accuracy"));
        b.AppendLine();
        b.AppendLine(Invariant($"Protocol: {c.Sentences} evaluation sentences from `{c.TextName}` (one per line), each embedded by the float encoder and by every candidate (mean-pooled, L2-normalized). "));
        b.AppendLine("1 − cos is per sentence, between the candidate's embedding and the float one's; recall@10 is, per sentence as a query, the share of the float encoder's ten nearest neighbours (by cosine, excluding the query) that the candidate's embeddings also rank in their top ten.");
        b.AppendLine(c.Sentences < 100
            ? Invariant($"p99 is the ⌈0.99 · {c.Sentences}⌉-th smallest value: with fewer than 100 sentences it is the worst sentence, the same as max.")
            : Invariant($"p99 is the ⌈0.99 · {c.Sentences}⌉-th smallest value."));
        b.AppendLine(c.CalibrationName is null ? "No calibration text." : Invariant($"GPTQ and AWQ calibrate on `{c.CalibrationName}`, separate from the evaluation text."));
        b.AppendLine();
        b.AppendLine(Table(c));
        b.AppendLine();
        b.AppendLine("The mean hides the tail: the sentences a compressed encoder moves most are the ones retrieval gets wrong.");
        b.AppendLine();
        b.AppendLine("![1 − cosine per sentence](cosine-distribution.png)");
        b.AppendLine();
        b.AppendLine("![bits per weight vs mean 1 − cosine](bits-vs-cosine.png)");
        return b.ToString();
    }

    private static string Json(Context c)
        => JsonSerializer.Serialize(
            new
            {
                model = c.BaseName,
                text = c.TextName,
                calibration = c.CalibrationName,
                sentences = c.Sentences,
                candidates = c.Candidates.Select(m => new
                {
                    name = m.Name,
                    bitsPerWeight = m.BitsPerWeight,
                    meanOneMinusCosine = m.MeanOneMinusCosine,
                    p99OneMinusCosine = Statistics.Percentile(m.OneMinusCosine, 0.99),
                    maxOneMinusCosine = m.MaxOneMinusCosine,
                    recallAt10 = m.RecallAt10,
                    oneMinusCosine = m.OneMinusCosine,
                }),
            },
            new JsonSerializerOptions { WriteIndented = true });

    private static void PlotDistribution(string path, IReadOnlyList<EncoderMetrics> candidates)
    {
        var plot = new ScottPlot.Plot();
        foreach (var m in candidates)
        {
            var sorted = m.OneMinusCosine.OrderBy(v => v).ToArray();
            var xs = Enumerable.Range(0, sorted.Length).Select(i => 100.0 * (i + 1) / sorted.Length).ToArray();
            plot.Add.Scatter(xs, sorted.Select(v => Math.Log10(Math.Max(v, 1e-9))).ToArray()).LegendText = m.Name;
        }

        plot.Title("1 − cosine per sentence, sorted");
        plot.XLabel("percentile of sentences");
        plot.YLabel("log10(1 − cos)");
        plot.ShowLegend(ScottPlot.Alignment.UpperLeft);
        plot.SavePng(path, 900, 500);
    }

    private static void PlotBits(string path, IReadOnlyList<EncoderMetrics> candidates)
    {
        var plot = new ScottPlot.Plot();
        foreach (var m in candidates)
        {
            var point = plot.Add.Scatter(new[] { m.BitsPerWeight }, new[] { Math.Log10(Math.Max(m.MeanOneMinusCosine, 1e-9)) });
            point.LegendText = m.Name;
            point.MarkerSize = 10;
        }

        plot.Title("bits per weight vs mean 1 − cosine");
        plot.XLabel("bits per weight");
        plot.YLabel("log10(mean 1 − cos)");
        plot.ShowLegend(ScottPlot.Alignment.UpperRight);
        plot.SavePng(path, 800, 500);
    }

    private static string Invariant(FormattableString text) => FormattableString.Invariant(text);

    private sealed class CandidateVisitor : SchemeRegistry.IVisitor<EncoderMetrics>
    {
        private readonly string spec;
        private readonly string method;
        private readonly BertWeights weights;
        private readonly Microsoft.ML.Tokenizers.BertTokenizer tokenizer;
        private readonly string[]? calibration;
        private readonly float[][] reference;
        private readonly string[] sentences;

        public CandidateVisitor(string spec, string method, BertWeights weights, Microsoft.ML.Tokenizers.BertTokenizer tokenizer, string[]? calibration, float[][] reference, string[] sentences)
        {
            this.spec = spec;
            this.method = method;
            this.weights = weights;
            this.tokenizer = tokenizer;
            this.calibration = calibration;
            this.reference = reference;
            this.sentences = sentences;
        }

        public EncoderMetrics Visit<TScheme>()
            where TScheme : struct, IQuantScheme
        {
            var effective = method switch
            {
                "gptq" => BertQuantizer.Gptq<TScheme>(weights, tokenizer, calibration!),
                "awq" => BertQuantizer.Awq<TScheme>(weights, tokenizer, calibration!),
                _ => BertQuantizer.Rtn<TScheme>(weights, tokenizer),
            };

            // Stored bits per projection weight: q, k, v, attention output (H × H), intermediate (I × H), output (H × I).
            var c = weights.Config;
            var info = TScheme.Info;
            double Bits(int rows, int cols) => info.BitsPerWeight(Padded(cols)) * rows * Padded(cols);
            int Padded(int cols) => Layers.QuantizedLinear<TScheme>.PaddedCols(info, cols);
            double stored = (4 * Bits(c.Hidden, c.Hidden)) + Bits(c.Intermediate, c.Hidden) + Bits(c.Hidden, c.Intermediate);
            double count = (4.0 * c.Hidden * c.Hidden) + (2.0 * c.Intermediate * c.Hidden);
            using var model = BertQuantizer.Dequantized(weights, tokenizer, effective);
            return EncoderEvaluation.Compare(spec, stored / count, reference, model, sentences);
        }
    }
}
