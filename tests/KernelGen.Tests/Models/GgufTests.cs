using System;
using System.Buffers.Binary;
using System.IO;
using System.Linq;
using KernelGen.Formats;
using KernelGen.Formats.Gguf;
using KernelGen.Formats.Llama2C;
using KernelGen.Models;
using Xunit;

namespace KernelGen.Tests.Models;

/// <summary>GGUF against a file llama.cpp wrote (stories260K.gguf) and hand-computed ggml blocks.</summary>
public sealed class GgufTests : IDisposable
{
    private readonly TestDirectory scratch = new("kernelgen-gguf-");

    private string directory => scratch.FullPath;

    private static string GgufPath => Path.Combine(ModelFiles.Stories260K!, "stories260K.gguf");

    public void Dispose() => scratch.Dispose();

    [ModelFact]
    public void LlamaCppsFile_ReadsAsDocumented()
    {
        var file = GgufFile.Load(GgufPath);
        Assert.Equal(3, file.Version);
        Assert.Equal(32, file.Alignment);
        Assert.Equal("llama", file.Get("general.architecture", string.Empty));
        Assert.Equal(2048, file.Require<int>("llama.context_length"));
        Assert.Equal((5 * 9) + 3, file.Tensors.Count);
        Assert.All(file.Tensors, t => Assert.Equal(GgmlType.F32, t.Type));
        var embedding = file.Tensor("token_embd.weight");
        Assert.Equal(new long[] { 64, 512 }, embedding.Dimensions);
        Assert.Equal("[512 × 64]", embedding.Shape);
    }

    [ModelFact]
    public void LlamaCppsFile_HoldsExactlyTheLlama2CWeights()
    {
        var fromGguf = GgufLlama.LoadWeights(GgufFile.Load(GgufPath));
        var fromBin = Llama2CCheckpoint.Load(ModelFiles.Checkpoint);
        Assert.Equal(fromBin.Config with { SeqLen = 2048, SharedClassifier = false }, fromGguf.Config);
        Assert.Equal(fromBin.TokenEmbedding, fromGguf.TokenEmbedding);
        Assert.Equal(fromBin.Wq, fromGguf.Wq);
        Assert.Equal(fromBin.Wk, fromGguf.Wk);
        Assert.Equal(fromBin.Wv, fromGguf.Wv);
        Assert.Equal(fromBin.Wo, fromGguf.Wo);
        Assert.Equal(fromBin.W1, fromGguf.W1);
        Assert.Equal(fromBin.W2, fromGguf.W2);
        Assert.Equal(fromBin.W3, fromGguf.W3);
        Assert.Equal(fromBin.RmsAttention, fromGguf.RmsAttention);
        Assert.Equal(fromBin.RmsFfn, fromGguf.RmsFfn);
        Assert.Equal(fromBin.RmsFinal, fromGguf.RmsFinal);
        Assert.Equal(fromBin.TokenEmbedding, fromGguf.Classifier); // output.weight stored separately, same values
    }

    [ModelFact]
    public void GgufTokenizer_EncodesLikeSentencePiece_AndTheModelTellsTheSameStory()
    {
        var file = GgufFile.Load(GgufPath);
        var tokenizer = GgufLlama.LoadTokenizer(file);
        var expected = Llama2CTokenizer.Load(ModelFiles.Tokenizer, 512);
        const string sentence = "Once upon a time, there was a little girl named Lily. She loved to play outside.";
        Assert.Equal(expected.Encode(sentence, true, false), tokenizer.Encode(sentence, true, false));

        using var model = LlamaModel.CreateDense(GgufLlama.LoadWeights(file));
        var story = tokenizer.Decode(TextGenerator.Generate(model, tokenizer, string.Empty, 40, new Sampler(512)));
        Assert.StartsWith("Once upon a time, there was a little girl named Lily.", story);
    }

    [Fact]
    public void Blocks_DequantizeByGgmlsFormulas()
    {
        // One block each, built by hand: d = 0.5 (fp16 0x3800), m = -1 (fp16 0xBC00).
        var q8 = new byte[34];
        BinaryPrimitives.WriteUInt16LittleEndian(q8, 0x3800);
        for (int j = 0; j < 32; j++)
        {
            q8[2 + j] = unchecked((byte)(sbyte)(j - 16));
        }

        var q40 = new byte[18];
        BinaryPrimitives.WriteUInt16LittleEndian(q40, 0x3800);
        var q41 = new byte[20];
        BinaryPrimitives.WriteUInt16LittleEndian(q41, 0x3800);
        BinaryPrimitives.WriteUInt16LittleEndian(q41.AsSpan(2), 0xBC00);
        for (int j = 0; j < 16; j++)
        {
            q40[2 + j] = (byte)(j | ((15 - j) << 4)); // element j = j, element j + 16 = 15 − j
            q41[4 + j] = q40[2 + j];
        }

        var y = new float[32];
        GgmlDequantize.Row(GgmlType.Q8_0, q8, y);
        Assert.Equal(Enumerable.Range(0, 32).Select(j => 0.5f * (j - 16)), y);
        GgmlDequantize.Row(GgmlType.Q4_0, q40, y);
        Assert.Equal(Enumerable.Range(0, 32).Select(j => 0.5f * ((j < 16 ? j : 31 - j) - 8)), y);
        GgmlDequantize.Row(GgmlType.Q4_1, q41, y);
        Assert.Equal(Enumerable.Range(0, 32).Select(j => (0.5f * (j < 16 ? j : 31 - j)) - 1f), y);
        Assert.Throws<NotSupportedException>(() => GgmlDequantize.Row((GgmlType)6, new byte[22], new float[32])); // Q5_0
    }

    /// <summary>K-quant super-blocks packed from chosen (d, dmin, sub-block scales and mins, codes) the way ggml's
    /// quantize_row_q4_K_ref / quantize_row_q6_K_ref lay them out, then read back: each element must be exactly the
    /// documented formula, evaluated in float64 (every product is exact in float32, so one rounding on both sides).</summary>
    [ModelFact]
    public void KQuantBlocks_DequantizeToTheDocumentedFormula()
    {
        var random = TestData.CreateRandom(nameof(KQuantBlocks_DequantizeToTheDocumentedFormula));
        const int blocks = 3;
        var q4k = new byte[blocks * 144];
        var q6k = new byte[blocks * 210];
        var expected4 = new float[blocks * 256];
        var expected6 = new float[blocks * 256];
        for (int b = 0; b < blocks; b++)
        {
            // Q4_K: d, dmin fp16; eight (scale, min) pairs of 6 bits; 256 codes of 4 bits.
            var block = q4k.AsSpan(b * 144, 144);
            Half d = (Half)(random.NextDouble() * 0.01), dmin = (Half)(random.NextDouble() * 0.01);
            BinaryPrimitives.WriteHalfLittleEndian(block, d);
            BinaryPrimitives.WriteHalfLittleEndian(block[2..], dmin);
            var ls = Enumerable.Range(0, 8).Select(_ => random.Next(64)).ToArray();
            var lm = Enumerable.Range(0, 8).Select(_ => random.Next(64)).ToArray();
            var scales = block.Slice(4, 12);
            for (int j = 0; j < 8; j++)
            {
                if (j < 4)
                {
                    scales[j] = (byte)ls[j];
                    scales[j + 4] = (byte)lm[j];
                }
                else
                {
                    scales[j + 4] = (byte)((ls[j] & 0xF) | ((lm[j] & 0xF) << 4));
                    scales[j - 4] |= (byte)((ls[j] >> 4) << 6);
                    scales[j] |= (byte)((lm[j] >> 4) << 6);
                }
            }

            var codes = Enumerable.Range(0, 256).Select(_ => random.Next(16)).ToArray();
            for (int j = 0; j < 256; j += 64)
            {
                for (int l = 0; l < 32; l++)
                {
                    block[16 + (j / 2) + l] = (byte)(codes[j + l] | (codes[j + l + 32] << 4));
                }
            }

            for (int e = 0; e < 256; e++)
            {
                expected4[(b * 256) + e] = (float)(((double)d * ls[e / 32] * codes[e]) - ((double)dmin * lm[e / 32]));
            }

            // Q6_K: 256 codes of 6 bits, sixteen int8 scales, fp16 d.
            block = q6k.AsSpan(b * 210, 210);
            var l6 = Enumerable.Range(0, 256).Select(_ => random.Next(64)).ToArray();
            var sc = Enumerable.Range(0, 16).Select(_ => (sbyte)random.Next(-128, 128)).ToArray();
            Half d6 = (Half)(random.NextDouble() * 0.001);
            for (int j = 0; j < 256; j += 128)
            {
                var ql = block.Slice(j / 2, 64);
                var qh = block.Slice(128 + (j / 4), 32);
                for (int l = 0; l < 32; l++)
                {
                    ql[l] = (byte)((l6[j + l] & 0xF) | ((l6[j + l + 64] & 0xF) << 4));
                    ql[l + 32] = (byte)((l6[j + l + 32] & 0xF) | ((l6[j + l + 96] & 0xF) << 4));
                    qh[l] = (byte)((l6[j + l] >> 4) | ((l6[j + l + 32] >> 4) << 2) | ((l6[j + l + 64] >> 4) << 4) | ((l6[j + l + 96] >> 4) << 6));
                }
            }

            for (int i = 0; i < 16; i++)
            {
                block[192 + i] = (byte)sc[i];
            }

            BinaryPrimitives.WriteHalfLittleEndian(block[208..], d6);
            for (int e = 0; e < 256; e++)
            {
                expected6[(b * 256) + e] = (float)((double)d6 * sc[e / 16] * (l6[e] - 32));
            }
        }

        var y = new float[blocks * 256];
        GgmlDequantize.Row(GgmlType.Q4_K, q4k, y);
        Assert.Equal(expected4, y);
        GgmlDequantize.Row(GgmlType.Q6_K, q6k, y);
        Assert.Equal(expected6, y);

        // Through a GGUF file: the tensor table's sizes and offsets for k-quants.
        var path = Path.Combine(directory, "kquants.gguf");
        GgufWriter.From(GgufFile.Load(GgufPath))
            .AddTensor("test.q4k", GgmlType.Q4_K, new long[] { 256, blocks }, q4k)
            .AddTensor("test.q6k", GgmlType.Q6_K, new long[] { 256, blocks }, q6k)
            .Save(path);
        var file = GgufFile.Load(path);
        Assert.Equal(expected4, file.ReadFloats(file.Tensor("test.q4k")));
        Assert.Equal(expected6, file.ReadFloats(file.Tensor("test.q6k")));
    }

    [ModelFact]
    public void TruncatedOrCorruptedGguf_FailsWithAFormatError()
    {
        var bytes = File.ReadAllBytes(GgufPath);
        foreach (int length in new[] { 3, 20, 100, 5000, bytes.Length / 2, bytes.Length - 1 })
        {
            var e = Assert.Throws<ModelFormatException>(() => GgufFile.Load(Write(bytes.AsSpan(0, length).ToArray())));
            Assert.Contains("byte", e.Message);
        }

        // A string length of 2^62 must not allocate: the first metadata key's length is at byte 24.
        var huge = (byte[])bytes.Clone();
        BinaryPrimitives.WriteUInt64LittleEndian(huge.AsSpan(24), 1UL << 62);
        var h = Assert.Throws<ModelFormatException>(() => GgufFile.Load(Write(huge)));
        Assert.Equal(24, h.Offset);

        var random = TestData.CreateRandom(nameof(TruncatedOrCorruptedGguf_FailsWithAFormatError));
        for (int trial = 0; trial < 80; trial++)
        {
            var flipped = (byte[])bytes.Clone();
            int at = random.Next(trial % 2 == 0 ? 200_000 : bytes.Length); // bias toward header and metadata
            flipped[at] ^= (byte)(1 << random.Next(8));
            try
            {
                var file = GgufFile.Load(Write(flipped));
                _ = GgufLlama.LoadWeights(file);
            }
            catch (ModelFormatException)
            {
            }
        }
    }

    private string Write(byte[] bytes)
    {
        var path = Path.Combine(directory, Guid.NewGuid().ToString("N") + ".gguf");
        File.WriteAllBytes(path, bytes);
        return path;
    }
}

/// <summary>Writing GGUF: llama.cpp's file back byte for byte, and quantized copies that load and run.</summary>
public sealed class GgufWriterTests : IDisposable
{
    private readonly TestDirectory scratch = new("kernelgen-ggufw-");

    private string directory => scratch.FullPath;

    private static string GgufPath => Path.Combine(ModelFiles.Stories260K!, "stories260K.gguf");

    public void Dispose() => scratch.Dispose();

    [ModelFact]
    public void ReadingAndWritingLlamaCppsFile_ReproducesItByteForByte()
    {
        var output = Path.Combine(directory, "copy.gguf");
        GgufWriter.From(GgufFile.Load(GgufPath)).Save(output);
        Assert.Equal(File.ReadAllBytes(GgufPath), File.ReadAllBytes(output));
        Assert.Single(Directory.GetFiles(directory)); // no temporary left behind
    }

    [ModelFact]
    public void QuantizedCopies_LoadAndTrackTheFloatModel()
    {
        var original = GgufFile.Load(GgufPath);
        using var dense = LlamaModel.CreateDense(GgufLlama.LoadWeights(original));
        var tokens = Llama2CTokenizer.Load(ModelFiles.Tokenizer, 512).Encode("Once upon a time, there was a little girl named Lily.", true, false);
        var baseline = tokens.Select((t, pos) => Reference.Softmax(dense.Forward(t, pos))).ToArray();

        double previousKl = 0;
        foreach (var type in new[] { GgmlType.Q8_0, GgmlType.Q4_0 })
        {
            var output = Path.Combine(directory, $"stories260K-{type}.gguf");
            var quantized = GgufQuantizer.Quantize(original, output, type);
            Assert.Equal(5 * 6, quantized.Count); // 7 projections per block, FFN down (K = 172) stays F32

            var file = GgufFile.Load(output);
            Assert.Equal(type, file.Tensor("blk.0.attn_q.weight").Type);
            Assert.Equal(GgmlType.F32, file.Tensor("blk.0.ffn_down.weight").Type);
            Assert.Equal(type == GgmlType.Q8_0 ? 7L : 2L, file.Get("general.file_type", 0L));

            using var model = LlamaModel.CreateDense(GgufLlama.LoadWeights(file));
            double kl = 0;
            for (int pos = 0; pos < tokens.Count; pos++)
            {
                kl += Reference.KlDivergence(baseline[pos], Reference.Softmax(model.Forward(tokens[pos], pos)));
            }

            kl /= tokens.Count;
            Assert.True(kl > previousKl, $"{type}: mean KL {kl:E2} should exceed the previous type's {previousKl:E2}");
            Assert.True(kl < (type == GgmlType.Q8_0 ? 1e-3 : 5e-2), $"{type}: mean KL {kl:E2}");
            previousKl = kl;
        }
    }

    [Fact]
    public void FailedWrite_LeavesNothingBehind()
    {
        var writer = new GgufWriter().Set("general.architecture", GgufValueType.String, "llama");
        var bad = Assert.Throws<ArgumentException>(() => writer.AddTensor("t", GgmlType.Q8_0, new long[] { 32, 2 }, new byte[10]));
        Assert.Contains("10 bytes do not hold a Q8_0 tensor", bad.Message);
        Assert.ThrowsAny<IOException>(() => writer.Save(Path.Combine(directory, "missing-folder", "x.gguf")));
        Assert.Empty(Directory.GetFileSystemEntries(directory));
    }
}
