using System;
using System.IO;
using System.Linq;
using KernelGen.Formats;
using KernelGen.Formats.Llama2C;
using KernelGen.Layers;
using KernelGen.Models;
using KernelGen.Quantization;
using Xunit;
using Xunit.Abstractions;

namespace KernelGen.Tests.Models;

/// <summary>The real stories260K decoder (llama2.c format) against independent references.</summary>
[Collection(DeviceCollection.Name)]
public sealed class Stories260KTests
{
    /// <summary>SentencePiece 0.1.97 and llama.cpp's tokenization of this sentence, from the model's README.</summary>
    private const string Sentence = "Once upon a time, there was a little girl named Lily. She loved to play outside.";
    internal static readonly int[] SentenceTokens = { 1, 403, 407, 261, 378, 432, 383, 286, 261, 376, 298, 315, 421, 395, 317, 426, 338, 401, 396, 267, 337, 410, 408, 419, 292, 411, 426 };

    private readonly DeviceFixture devices;
    private readonly ITestOutputHelper output;

    public Stories260KTests(DeviceFixture devices, ITestOutputHelper output)
    {
        this.devices = devices;
        this.output = output;
    }

    [ModelFact]
    public void Checkpoint_MatchesTheDocumentedHeaderAndOffsets()
    {
        var weights = Llama2CCheckpoint.Load(ModelFiles.Checkpoint);
        Assert.Equal(new LlamaConfig(64, 172, 5, 8, 4, 512, 512, SharedClassifier: true), weights.Config);
        using var file = new BinaryReader(File.OpenRead(ModelFiles.Checkpoint));
        float At(long offset)
        {
            file.BaseStream.Position = offset;
            return file.ReadSingle();
        }

        // Byte offsets from the README's table, read straight from the file.
        Assert.Equal(At(28), weights.TokenEmbedding[0]);
        Assert.Equal(At(131100 - 4), weights.TokenEmbedding[^1]);
        Assert.Equal(At(132380), weights.Wq[0]);
        Assert.Equal(At(214300), weights.Wk[0]);
        Assert.Equal(At(599580 + (4 * 1000)), weights.W2[1000]);
        Assert.Equal(At(819740), weights.W3[0]);
        Assert.Equal(At(1039900), weights.RmsFinal[0]);
        Assert.Equal(At(1039900 + (63 * 4)), weights.RmsFinal[63]);
    }

    [ModelFact]
    public void Tokenizer_MatchesSentencePiece_AndRoundTrips()
    {
        var tokenizer = Llama2CTokenizer.Load(ModelFiles.Tokenizer, 512);
        var tokens = tokenizer.Encode(Sentence, bos: true, eos: false);
        Assert.Equal(SentenceTokens, tokens);
        Assert.Equal(Sentence, tokenizer.Decode(tokens));

        // Characters outside the vocabulary fall back to their UTF-8 bytes and decode back intact.
        const string unusual = "Ünïcödé 🙂 and\ttabs";
        Assert.Equal(unusual, tokenizer.Decode(tokenizer.Encode(unusual, bos: true, eos: true)));
    }

    [ModelFact]
    public void Forward_AgreesWithAnIndependentFloat64Reference()
    {
        var weights = Llama2CCheckpoint.Load(ModelFiles.Checkpoint);
        using var model = LlamaModel.CreateDense(weights);
        var reference = new ReferenceLlama(weights);
        double worst = 0;
        for (int pos = 0; pos < SentenceTokens.Length; pos++)
        {
            var logits = model.Forward(SentenceTokens[pos], pos).ToArray();
            var expected = reference.Forward(SentenceTokens[pos], pos);
            for (int i = 0; i < logits.Length; i++)
            {
                worst = Math.Max(worst, Math.Abs(logits[i] - expected[i]));
            }
        }

        output.WriteLine($"max |Δlogit| over {SentenceTokens.Length} positions × 512 logits: {worst:E2}");
        Assert.True(worst < 1e-4, $"max |Δlogit| = {worst:E2}");
    }

    [ModelFact]
    public void Greedy_FromBos_TellsKarpathysDocumentedStory()
    {
        var weights = Llama2CCheckpoint.Load(ModelFiles.Checkpoint);
        var tokenizer = Llama2CTokenizer.Load(ModelFiles.Tokenizer, weights.Config.VocabSize);
        using var model = LlamaModel.CreateDense(weights);
        var streamed = new System.Text.StringBuilder();
        var tokens = TextGenerator.Generate(model, tokenizer, string.Empty, 80, new Sampler(512), text => streamed.Append(text));
        string story = tokenizer.Decode(tokens);
        output.WriteLine(story);
        Assert.StartsWith("Once upon a time, there was a little girl named Lily. She loved to play outside in the park.", story);
        Assert.Equal(story, streamed.ToString());
    }

    [ModelFact]
    public void DecodeLoop_AllocatesNothingPerToken()
    {
        // The runtime itself sometimes charges a one-off allocation to this thread mid-loop (tier-up, type loading:
        // dotnet/runtime#63487 is the same flake in the runtime's own GetAllocatedBytesForCurrentThread test). A
        // per-token allocation would show in every window; a one-off cannot be in all of them. So: the quietest of
        // four 40-token windows must allocate exactly nothing.
        var weights = Llama2CCheckpoint.Load(ModelFiles.Checkpoint);
        using var model = LlamaModel.CreateDense(weights);
        var sampler = new Sampler(512);
        int token = Llama2CTokenizer.Bos;
        token = sampler.Sample(model.Forward(token, 0)); // warm-up: JIT and first touches
        int pos = 1;
        var windows = new long[4];
        for (int w = 0; w < windows.Length; w++)
        {
            long before = GC.GetAllocatedBytesForCurrentThread();
            for (int end = pos + 40; pos < end; pos++)
            {
                token = sampler.Sample(model.Forward(token, pos));
            }

            windows[w] = GC.GetAllocatedBytesForCurrentThread() - before;
        }

        output.WriteLine($"bytes allocated per 40-token window: {string.Join(", ", windows)}");
        Assert.Equal(0, windows.Min());
    }

    [ModelFact]
    public void QuantizedModels_TrackTheFloatModel_InOrderOfBits()
    {
        var weights = Llama2CCheckpoint.Load(ModelFiles.Checkpoint);
        using var dense = LlamaModel.CreateDense(weights);
        var baseline = SentenceTokens.Select((t, pos) => Reference.Softmax(dense.Forward(t, pos))).ToArray();

        var device = devices.Cpu;
        var (kl8, top8) = Compare(LlamaModel.CreateQuantized<B8G32S>(weights, device), baseline);
        var (kl4, top4) = Compare(LlamaModel.CreateQuantized<B4G32A>(weights, device), baseline);
        var (kl3, top3) = Compare(LlamaModel.CreateQuantized<B3G32A>(weights, device), baseline);
        output.WriteLine($"8-bit sym g32:  mean KL {kl8:E2}, same top-1 {top8:P0}");
        output.WriteLine($"4-bit asym g32: mean KL {kl4:E2}, same top-1 {top4:P0}");
        output.WriteLine($"3-bit asym g32: mean KL {kl3:E2}, same top-1 {top3:P0}");

        Assert.True(kl8 < kl4 && kl4 < kl3, $"KL should grow as bits shrink: {kl8:E2}, {kl4:E2}, {kl3:E2}");
        Assert.True(kl8 < 1e-3, $"8-bit mean KL {kl8:E2}");
        Assert.True(top8 >= 0.95, $"8-bit same top-1 {top8:P0}");
    }

    [ModelFact]
    public void StackedProjections_RunAsOneLaunchEach_AndMatchTheFloat64ReferenceOfTheirCodes()
    {
        var weights = Llama2CCheckpoint.Load(ModelFiles.Checkpoint);
        var quantized = LlamaQuantizer.Rtn<B4G32A>(weights);
        var reference = new ReferenceLlama(DequantizedWeights(weights, quantized));
        var device = devices.Cpu;
        var parts = new System.Collections.Generic.List<RecordingLayer>();
        ILinearLayer Build(string name, int cols)
        {
            var layer = new RecordingLayer(name, new QuantizedLinear<B4G32A>(device, quantized[name], cols));
            parts.Add(layer);
            return layer;
        }

        using var stacked = LlamaModel.Create(weights, (name, _, _, cols) => Build(name, cols));
        var c = weights.Config;
        Assert.Equal(7 * c.Layers, parts.Count);
        Assert.Equal(2 * c.Layers, parts.Count(p => p.StackedOthers > 0)); // q takes k and v; gate takes up
        Assert.All(parts.Where(p => p.Name.EndsWith("attn_q", StringComparison.Ordinal)), p => Assert.Equal(2, p.StackedOthers));
        Assert.All(parts.Where(p => !p.Name.EndsWith("attn_output", StringComparison.Ordinal) && !p.Name.EndsWith("ffn_down", StringComparison.Ordinal)), p => Assert.True(p.Disposed, p.Name));

        using var separate = LlamaModel.Create(weights, (name, _, _, cols) => new QuantizedLinear<B4G32A>(device, quantized[name], cols), stackProjections: false);
        double worstStacked = 0, worstSeparate = 0;
        for (int pos = 0; pos < 8; pos++)
        {
            var expected = reference.Forward(SentenceTokens[pos], pos);
            var fromStacked = stacked.Forward(SentenceTokens[pos], pos).ToArray();
            var fromSeparate = separate.Forward(SentenceTokens[pos], pos).ToArray();
            for (int i = 0; i < expected.Length; i++)
            {
                worstStacked = Math.Max(worstStacked, Math.Abs(fromStacked[i] - expected[i]));
                worstSeparate = Math.Max(worstSeparate, Math.Abs(fromSeparate[i] - expected[i]));
            }
        }

        // Only the stacked layers ran: the parts that were stacked saw no input.
        Assert.All(parts, p => Assert.Equal(p.Name.EndsWith("attn_output", StringComparison.Ordinal) || p.Name.EndsWith("ffn_down", StringComparison.Ordinal) ? 8 : 0, p.Calls));
        output.WriteLine($"max |Δlogit| against the float64 reference of the codes: stacked {worstStacked:E2}, separate {worstSeparate:E2}");
        Assert.True(worstStacked < 1e-4 && worstSeparate < 1e-4, $"stacked {worstStacked:E2}, separate {worstSeparate:E2}");
    }

    /// <summary>The float32 weights that <paramref name="quantized"/>'s codes stand for (K padding dropped).</summary>
    private static LlamaWeights DequantizedWeights<TScheme>(LlamaWeights weights, System.Collections.Generic.Dictionary<string, QuantizedMatrix<TScheme>> quantized)
        where TScheme : struct, IQuantScheme
    {
        var c = weights.Config;
        float[] Stack(string kind, float[] all, int rows, int cols)
        {
            var stacked = new float[all.Length];
            for (int l = 0; l < c.Layers; l++)
            {
                LlamaQuantizer.TrimColumns(quantized[$"blk.{l}.{kind}"].Dequantize(), rows, cols).CopyTo(stacked, l * rows * cols);
            }

            return stacked;
        }

        int d = c.Dim, kv = c.KvDim, h = c.HiddenDim;
        return weights with
        {
            Wq = Stack("attn_q", weights.Wq, d, d),
            Wk = Stack("attn_k", weights.Wk, kv, d),
            Wv = Stack("attn_v", weights.Wv, kv, d),
            Wo = Stack("attn_output", weights.Wo, d, d),
            W1 = Stack("ffn_gate", weights.W1, h, d),
            W2 = Stack("ffn_down", weights.W2, d, h),
            W3 = Stack("ffn_up", weights.W3, h, d),
        };
    }

    /// <summary>A quantized layer that records what the model does with it.</summary>
    private sealed class RecordingLayer : IRowStackable
    {
        private readonly QuantizedLinear<B4G32A> inner;

        public RecordingLayer(string name, QuantizedLinear<B4G32A> inner)
        {
            Name = name;
            this.inner = inner;
        }

        public string Name { get; }

        public int StackedOthers { get; private set; }

        public int Calls { get; private set; }

        public bool Disposed { get; private set; }

        public int InFeatures => inner.InFeatures;

        public int OutFeatures => inner.OutFeatures;

        public ILinearLayer? TryStackRows(ReadOnlySpan<ILinearLayer> others)
        {
            var unwrapped = new ILinearLayer[others.Length];
            for (int i = 0; i < others.Length; i++)
            {
                unwrapped[i] = ((RecordingLayer)others[i]).inner;
            }

            StackedOthers = others.Length;
            return inner.TryStackRows(unwrapped);
        }

        public void Forward(ReadOnlySpan<float> x, Span<float> y)
        {
            Calls++;
            inner.Forward(x, y);
        }

        public void Dispose()
        {
            Disposed = true;
            inner.Dispose();
        }
    }

    private static (double MeanKl, double SameTop1) Compare(LlamaModel quantized, double[][] baseline)
    {
        using (quantized)
        {
            double kl = 0;
            int same = 0;
            for (int pos = 0; pos < SentenceTokens.Length; pos++)
            {
                var q = Reference.Softmax(quantized.Forward(SentenceTokens[pos], pos));
                kl += Reference.KlDivergence(baseline[pos], q);
                same += Reference.ArgMax(baseline[pos]) == Reference.ArgMax(q) ? 1 : 0;
            }

            return (kl / SentenceTokens.Length, (double)same / SentenceTokens.Length);
        }
    }
}
