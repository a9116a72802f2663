using System;
using System.IO;
using System.Linq;
using System.Text.Json;
using KernelGen.Backends;
using KernelGen.Formats;
using KernelGen.Formats.Gguf;
using KernelGen.Layers;
using KernelGen.Models;
using KernelGen.Quantization;
using Xunit;

namespace KernelGen.Tests.Models;

/// <summary>
/// GGUFs in a generated scheme's own layout (<see cref="GgufSchemeTensors"/>), written from stories260K: the codes,
/// scales and zero points come back exactly; the generic decoder that <c>eval</c> and <see cref="GgufLlama"/> use agrees
/// bit for bit with each scheme's generated dequantizer (3-, 5- and 6-bit codes straddle words; FFN down's K = 172 is
/// padded); and the command line's quantize → run → eval path uses what the file stores.
/// </summary>
[Collection(CommandLineCollection.Name)]
public sealed class SchemeGgufTests : IDisposable
{
    private readonly TestDirectory scratch = new("kernelgen-scheme-gguf-");

    private string directory => scratch.FullPath;

    public void Dispose() => scratch.Dispose();

    [ModelFact]
    public void EachScheme_RoundTripsExactly_AndTheGenericDecoderMatchesTheGeneratedOne()
    {
        var original = GgufFile.Load(ModelFiles.Gguf);
        var weights = GgufLlama.LoadWeights(original);
        RoundTrip<B3G32A>(original, weights);
        RoundTrip<B5G128S>(original, weights);
        RoundTrip<B6G32A>(original, weights);
        RoundTrip<B8GPCA>(original, weights);
        RoundTrip<B2G32S>(original, weights);
    }

    [ModelFact]
    public void QuantizeWithAScheme_ThenRunAndEval_UseTheStoredCodes()
    {
        string data = Path.Combine(EvalCommandTests.RepositoryRoot(), "samples", "data");
        string calib = Path.Combine(data, "stories260K-calib.txt"), text = Path.Combine(data, "stories260K-eval.txt");
        string file = Path.Combine(directory, "s-q4g32-gptq.gguf");
        Assert.Equal(0, KernelGen.Cli.Program.Main(new[] { "quantize", ModelFiles.Gguf, "--scheme", "q4g32", "--method", "gptq", "--calib", calib, "-o", file }));
        Assert.Equal(new QuantSchemeInfo("q4g32", 4, 32, false), GgufSchemeTensors.ReadScheme(GgufFile.Load(file)));
        Assert.Empty(Directory.GetFiles(directory, "*.tmp")); // written atomically: only the file itself

        // The file and the same method in memory (same calibration text and chunking) give the same metrics.
        string report = Path.Combine(directory, "report");
        Assert.Equal(0, KernelGen.Cli.Program.Main(new[]
        {
            "eval", ModelFiles.Gguf, "--compare", file, "gptq:q4g32", "--text", text, "--calib", calib, "--max-chunks", "2", "--report", report,
        }));
        using var metrics = JsonDocument.Parse(File.ReadAllText(Path.Combine(report, "metrics.json")));
        var candidates = metrics.RootElement.GetProperty("candidates").EnumerateArray().ToList();
        double fromFile = candidates[0].GetProperty("meanKl").GetDouble(), inMemory = candidates[1].GetProperty("meanKl").GetDouble();
        Assert.True(fromFile > 0 && Math.Abs(fromFile - inMemory) <= 1e-12 * inMemory, $"mean KL from the file {fromFile}, in memory {inMemory}");
        // Bits per weight: the file's are its bytes (the zero-point stream is padded to whole 32-code chunks), memory's
        // the scheme's nominal cost; both count FFN down's padding.
        Assert.InRange(candidates[0].GetProperty("bitsPerWeight").GetDouble() - candidates[1].GetProperty("bitsPerWeight").GetDouble(), 0, 0.01);

        // run takes the stored codes (no --scheme) and refuses another scheme for them.
        var output = new StringWriter();
        var previous = Console.Out;
        Console.SetOut(output);
        try
        {
            Assert.Equal(0, KernelGen.Cli.Program.Main(new[] { "run", file, "--prompt", "Once upon a time", "-n", "8", "--device", "cpu" }));
        }
        finally
        {
            Console.SetOut(previous);
        }

        Assert.StartsWith("Once upon a time", output.ToString(), StringComparison.Ordinal);
        Assert.Equal(2, KernelGen.Cli.Program.Main(new[] { "run", file, "--scheme", "q3g32", "-n", "4", "--device", "cpu" }));
        Assert.Equal(2, KernelGen.Cli.Program.Main(new[] { "quantize", file, "--scheme", "q4g32", "-o", Path.Combine(directory, "again.gguf") }));
        Assert.Equal(2, KernelGen.Cli.Program.Main(new[] { "quantize", ModelFiles.Gguf, "--scheme", "q4g32", "--type", "q4_0", "-o", Path.Combine(directory, "both.gguf") }));
        Assert.False(File.Exists(Path.Combine(directory, "again.gguf")));
    }

    /// <summary>A prompt longer than -n is refused before a device opens or a layer is quantized: the error comes
    /// without the lines run prints once the model is built.</summary>
    [ModelFact]
    public void Run_RefusesAPromptLongerThanTheStepBudget_BeforeBuildingTheModel()
    {
        var errors = new StringWriter();
        var previous = Console.Error;
        Console.SetError(errors);
        try
        {
            Assert.Equal(2, KernelGen.Cli.Program.Main(new[] { "run", ModelFiles.Gguf, "--prompt", "Once upon a time there was a little girl", "-n", "3", "--scheme", "q4g128", "--device", "cpu" }));
        }
        finally
        {
            Console.SetError(previous);
        }

        string text = errors.ToString();
        Assert.Contains("error: The prompt is 12 tokens, more than the 3 steps allowed (the model holds ", text, StringComparison.Ordinal);
        Assert.Contains("raise -n or shorten the prompt.", text, StringComparison.Ordinal);
        Assert.DoesNotContain("weights q4g128", text, StringComparison.Ordinal);
        Assert.DoesNotContain("model   ", text, StringComparison.Ordinal);
    }

    [ModelFact]
    public void StoredCodes_LoadWithoutAFloatCopy_AndRunAsTheFloat64ReferenceOfTheirDequantizedWeights()
    {
        string path = Path.Combine(directory, "lean-b4g32a.gguf");
        GgufQuantizer.Quantize<B4G32A>(GgufFile.Load(ModelFiles.Gguf), path);
        var file = GgufFile.Load(path);
        var full = GgufLlama.LoadWeights(file);
        var lean = GgufLlama.LoadWeights(file, dequantizeSchemeCodes: false);

        // The projections stay out; everything the host computes with is read as before.
        Assert.True(full.HasProjectionWeights);
        Assert.False(lean.HasProjectionWeights);
        Assert.All(new[] { lean.Wq, lean.Wk, lean.Wv, lean.Wo, lean.W1, lean.W2, lean.W3 }, Assert.Empty);
        Assert.Equal(full.Config, lean.Config);
        Assert.Equal(full.TokenEmbedding, lean.TokenEmbedding);
        Assert.Equal(full.RmsAttention, lean.RmsAttention);
        Assert.Equal(full.RmsFfn, lean.RmsFfn);
        Assert.Equal(full.RmsFinal, lean.RmsFinal);
        Assert.Contains("left out", Assert.Throws<InvalidOperationException>(() => lean.Projection("blk.2.ffn_down")).Message, StringComparison.Ordinal);
        Assert.Contains("dequantizeSchemeCodes: true", Assert.Throws<ArgumentException>(() => LlamaModel.CreateDense(lean)).Message, StringComparison.Ordinal);

        // A model built from the stored codes alone against the float64 reference over the same codes dequantized.
        using var device = ComputeDevice.Create(DeviceKind.Cpu);
        using var model = LlamaModel.Create(lean, (name, w, rows, cols) =>
        {
            Assert.True(w.IsEmpty, name);
            return new QuantizedLinear<B4G32A>(device, GgufSchemeTensors.Read<B4G32A>(file, name + ".weight", rows, cols), cols);
        });
        var reference = new ReferenceLlama(full);
        var tokens = Stories260KTests.SentenceTokens;
        double worst = 0, largest = 0;
        for (int pos = 0; pos < tokens.Length; pos++)
        {
            var logits = model.Forward(tokens[pos], pos).ToArray();
            var expected = reference.Forward(tokens[pos], pos);
            for (int i = 0; i < logits.Length; i++)
            {
                worst = Math.Max(worst, Math.Abs(logits[i] - expected[i]));
                largest = Math.Max(largest, Math.Abs(expected[i]));
            }
        }

        Assert.True(worst < 1e-4, $"max |Δlogit| = {worst:E2} (logits up to {largest:F1})");
    }

    [ModelFact]
    public void ATensorOfTheWrongShape_IsReportedByName()
    {
        var original = GgufFile.Load(ModelFiles.Gguf);
        string good = Path.Combine(directory, "good.gguf"), bad = Path.Combine(directory, "bad.gguf");
        GgufQuantizer.Quantize<B4G32S>(original, good);
        var writer = GgufWriter.From(GgufFile.Load(good));
        writer.ReplaceTensor("blk.1.attn_k.weight.scales", GgmlType.F16, new long[] { 1, 32 }, new byte[64]);
        writer.Save(bad);
        var e = Assert.Throws<ModelFormatException>(() => GgufLlama.LoadWeights(GgufFile.Load(bad)));
        Assert.Contains("blk.1.attn_k.weight.scales", e.Message, StringComparison.Ordinal);
        Assert.Contains("F16 [2, 32]", e.Message, StringComparison.Ordinal);

        var mismatch = Assert.Throws<ModelFormatException>(() => GgufSchemeTensors.Read<B4G32A>(GgufFile.Load(good), "blk.0.attn_q.weight", 64, 64));
        Assert.Contains("is not", mismatch.Message, StringComparison.Ordinal);
    }

    [ModelFact]
    public void BitFlippedSchemeFiles_LoadOrFailWithAFormatError()
    {
        string good = Path.Combine(directory, "flip-source.gguf");
        GgufQuantizer.Quantize<B3G32A>(GgufFile.Load(ModelFiles.Gguf), good);
        var bytes = File.ReadAllBytes(good);
        int dataStart = (int)GgufFile.Load(good).DataStart;
        var random = TestData.CreateRandom(nameof(BitFlippedSchemeFiles_LoadOrFailWithAFormatError));
        for (int trial = 0; trial < 300; trial++)
        {
            // Most flips land in the header (metadata, tensor shapes and types), where they matter most.
            var flipped = (byte[])bytes.Clone();
            int at = trial % 4 == 3 ? random.Next(flipped.Length) : random.Next(dataStart);
            flipped[at] ^= (byte)(1 << random.Next(8));
            string path = Path.Combine(directory, "flipped.gguf");
            File.WriteAllBytes(path, flipped);
            try
            {
                GgufLlama.LoadWeights(GgufFile.Load(path));
            }
            catch (ModelFormatException)
            {
            }
        }
    }

    private void RoundTrip<TScheme>(GgufFile original, LlamaWeights weights)
        where TScheme : struct, IQuantScheme
    {
        string path = Path.Combine(directory, typeof(TScheme).Name + ".gguf");
        var written = GgufQuantizer.Quantize<TScheme>(original, path);
        Assert.Equal(5 * 7, written.Count); // every projection, FFN down's K = 172 padded

        var file = GgufFile.Load(path);
        var scheme = GgufSchemeTensors.ReadScheme(file)!;
        Assert.Equal((TScheme.Info.Bits, TScheme.Info.GroupSize, TScheme.Info.Symmetric), (scheme.Bits, scheme.GroupSize, scheme.Symmetric));
        var expected = LlamaQuantizer.Rtn<TScheme>(weights);
        var loaded = GgufLlama.LoadWeights(file);
        foreach (var (name, matrix) in expected)
        {
            var projection = weights.Projection(name);
            int rows = matrix.Rows, cols = projection.Length / rows;
            var read = GgufSchemeTensors.Read<TScheme>(file, name + ".weight", rows, cols);
            Assert.Equal(matrix.Packed, read.Packed);
            Assert.Equal(matrix.Scales, read.Scales);
            Assert.Equal(matrix.Zeros, read.Zeros);

            // The generic decoder against the scheme's generated reference dequantizer, padding dropped.
            var reference = LlamaQuantizer.TrimColumns(matrix.Dequantize(), rows, cols);
            Assert.Equal(reference, GgufSchemeTensors.Dequantize(file, name + ".weight", rows, cols));
            Assert.Equal(reference, loaded.Projection(name).ToArray());
        }

        // Everything else is the original's: embeddings, norms, tokenizer.
        Assert.Equal(weights.TokenEmbedding, loaded.TokenEmbedding);
        Assert.Equal(weights.RmsAttention, loaded.RmsAttention);
        Assert.Equal(GgufLlama.LoadTokenizer(original).VocabSize, GgufLlama.LoadTokenizer(file).VocabSize);
    }
}
