using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text;
using KernelGen.Formats;
using KernelGen.Formats.Llama2C;
using KernelGen.Formats.Safetensors;
using KernelGen.Models;
using Xunit;

namespace KernelGen.Tests.Models;

/// <summary>safetensors + config.json: real weights written the way Hugging Face lays them out (names, [out, in]
/// linears, rotate-half-permuted q/k, shards) load into models that reproduce the llama2.c and ONNX loads exactly.</summary>
public sealed class SafetensorsTests : IDisposable
{
    private readonly TestDirectory scratch = new("kernelgen-st-");

    private string directory => scratch.FullPath;

    public void Dispose() => scratch.Dispose();

    [ModelFact]
    public void Stories260K_AsShardedHuggingFaceLlama_GivesTheSameLogitsAsTheLlama2CFile()
    {
        var weights = Llama2CCheckpoint.Load(ModelFiles.Checkpoint);
        var c = weights.Config;
        var tensors = new List<(string Name, long[] Shape, float[] Data)>
        {
            ("model.embed_tokens.weight", new long[] { c.VocabSize, c.Dim }, weights.TokenEmbedding),
            ("model.norm.weight", new long[] { c.Dim }, weights.RmsFinal),
        };
        for (int l = 0; l < c.Layers; l++)
        {
            float[] Slice(float[] all, int count) => all.AsSpan(l * count, count).ToArray();
            string p = $"model.layers.{l}.";
            tensors.Add((p + "input_layernorm.weight", new long[] { c.Dim }, Slice(weights.RmsAttention, c.Dim)));
            tensors.Add((p + "post_attention_layernorm.weight", new long[] { c.Dim }, Slice(weights.RmsFfn, c.Dim)));
            tensors.Add((p + "self_attn.q_proj.weight", new long[] { c.Dim, c.Dim }, HfPermute(Slice(weights.Wq, c.Dim * c.Dim), c.Heads, c.Dim, c.Dim)));
            tensors.Add((p + "self_attn.k_proj.weight", new long[] { c.KvDim, c.Dim }, HfPermute(Slice(weights.Wk, c.KvDim * c.Dim), c.KvHeads, c.KvDim, c.Dim)));
            tensors.Add((p + "self_attn.v_proj.weight", new long[] { c.KvDim, c.Dim }, Slice(weights.Wv, c.KvDim * c.Dim)));
            tensors.Add((p + "self_attn.o_proj.weight", new long[] { c.Dim, c.Dim }, Slice(weights.Wo, c.Dim * c.Dim)));
            tensors.Add((p + "mlp.gate_proj.weight", new long[] { c.HiddenDim, c.Dim }, Slice(weights.W1, c.HiddenDim * c.Dim)));
            tensors.Add((p + "mlp.down_proj.weight", new long[] { c.Dim, c.HiddenDim }, Slice(weights.W2, c.Dim * c.HiddenDim)));
            tensors.Add((p + "mlp.up_proj.weight", new long[] { c.HiddenDim, c.Dim }, Slice(weights.W3, c.HiddenDim * c.Dim)));
        }

        // Two shards and an index, as save_pretrained writes large models.
        var shards = new[] { "model-00001-of-00002.safetensors", "model-00002-of-00002.safetensors" };
        var map = new StringBuilder();
        for (int s = 0; s < 2; s++)
        {
            var part = tensors.Where((_, i) => i % 2 == s).ToList();
            WriteSafetensors(Path.Combine(directory, shards[s]), part.Select(t => (t.Name, "F32", t.Shape, Bytes(t.Data))));
            foreach (var t in part)
            {
                map.Append(map.Length == 0 ? string.Empty : ",").Append($"\"{t.Name}\":\"{shards[s]}\"");
            }
        }

        File.WriteAllText(Path.Combine(directory, "model.safetensors.index.json"), $"{{\"metadata\":{{}},\"weight_map\":{{{map}}}}}");
        File.WriteAllText(Path.Combine(directory, "config.json"), $$"""
            {"architectures": ["LlamaForCausalLM"], "model_type": "llama", "hidden_size": {{c.Dim}}, "intermediate_size": {{c.HiddenDim}},
             "num_hidden_layers": {{c.Layers}}, "num_attention_heads": {{c.Heads}}, "num_key_value_heads": {{c.KvHeads}},
             "vocab_size": {{c.VocabSize}}, "max_position_embeddings": {{c.SeqLen}}, "rms_norm_eps": 1e-05, "rope_theta": 10000.0,
             "hidden_act": "silu", "tie_word_embeddings": true, "rope_scaling": null, "torch_dtype": "float32"}
            """);

        using var checkpoint = HuggingFaceCheckpoint.Open(directory);
        var loaded = HuggingFaceModels.LoadLlama(checkpoint);
        Assert.Equal(c, loaded.Config);
        using var expected = LlamaModel.CreateDense(weights);
        using var actual = LlamaModel.CreateDense(loaded);
        foreach (var (token, pos) in Stories260KTests.SentenceTokens.Select((t, i) => (t, i)))
        {
            Assert.Equal(expected.Forward(token, pos).ToArray(), actual.Forward(token, pos).ToArray());
        }
    }

    [Fact]
    public void MiniLm_AsHuggingFaceBert_GivesTheSameEmbeddingsAsTheOnnxFile()
    {
        var (weights, vocabulary) = MiniLmTests.Model.Value;
        var c = weights.Config;
        var tensors = new List<(string, string, long[], byte[])>
        {
            ("embeddings.word_embeddings.weight", "F32", new long[] { c.VocabSize, c.Hidden }, Bytes(weights.WordEmbeddings)),
            ("embeddings.position_embeddings.weight", "F32", new long[] { c.MaxPositions, c.Hidden }, Bytes(weights.PositionEmbeddings)),
            ("embeddings.token_type_embeddings.weight", "F32", new long[] { 2, c.Hidden }, Bytes(weights.TokenTypeEmbeddings)),
            ("embeddings.LayerNorm.weight", "F32", new long[] { c.Hidden }, Bytes(weights.EmbeddingNormGain)),
            ("embeddings.LayerNorm.bias", "F32", new long[] { c.Hidden }, Bytes(weights.EmbeddingNormBias)),
        };
        for (int l = 0; l < c.Layers; l++)
        {
            var b = weights.Layers[l];
            string p = $"encoder.layer.{l}.";
            long[] square = { c.Hidden, c.Hidden }, vector = { c.Hidden };
            tensors.Add((p + "attention.self.query.weight", "F32", square, Bytes(b.Query)));
            tensors.Add((p + "attention.self.query.bias", "F32", vector, Bytes(b.QueryBias)));
            tensors.Add((p + "attention.self.key.weight", "F32", square, Bytes(b.Key)));
            tensors.Add((p + "attention.self.key.bias", "F32", vector, Bytes(b.KeyBias)));
            tensors.Add((p + "attention.self.value.weight", "F32", square, Bytes(b.Value)));
            tensors.Add((p + "attention.self.value.bias", "F32", vector, Bytes(b.ValueBias)));
            tensors.Add((p + "attention.output.dense.weight", "F32", square, Bytes(b.AttentionOutput)));
            tensors.Add((p + "attention.output.dense.bias", "F32", vector, Bytes(b.AttentionOutputBias)));
            tensors.Add((p + "attention.output.LayerNorm.weight", "F32", vector, Bytes(b.AttentionNormGain)));
            tensors.Add((p + "attention.output.LayerNorm.bias", "F32", vector, Bytes(b.AttentionNormBias)));
            tensors.Add((p + "intermediate.dense.weight", "F32", new long[] { c.Intermediate, c.Hidden }, Bytes(b.Intermediate)));
            tensors.Add((p + "intermediate.dense.bias", "F32", new long[] { c.Intermediate }, Bytes(b.IntermediateBias)));
            tensors.Add((p + "output.dense.weight", "F32", new long[] { c.Hidden, c.Intermediate }, Bytes(b.Output)));
            tensors.Add((p + "output.dense.bias", "F32", vector, Bytes(b.OutputBias)));
            tensors.Add((p + "output.LayerNorm.weight", "F32", vector, Bytes(b.OutputNormGain)));
            tensors.Add((p + "output.LayerNorm.bias", "F32", vector, Bytes(b.OutputNormBias)));
        }

        // A pooler the encoder ignores, as sentence-transformers' export carries one.
        tensors.Add(("pooler.dense.weight", "F32", new long[] { c.Hidden, c.Hidden }, new byte[c.Hidden * c.Hidden * 4]));
        WriteSafetensors(Path.Combine(directory, "model.safetensors"), tensors);
        File.WriteAllText(Path.Combine(directory, "config.json"), $$"""
            {"architectures": ["BertModel"], "model_type": "bert", "hidden_size": {{c.Hidden}}, "num_hidden_layers": {{c.Layers}},
             "num_attention_heads": {{c.Heads}}, "intermediate_size": {{c.Intermediate}}, "vocab_size": {{c.VocabSize}},
             "max_position_embeddings": {{c.MaxPositions}}, "type_vocab_size": 2, "layer_norm_eps": 1e-12, "hidden_act": "gelu",
             "position_embedding_type": "absolute"}
            """);

        using var checkpoint = HuggingFaceCheckpoint.Open(Path.Combine(directory, "model.safetensors"));
        var loaded = HuggingFaceModels.LoadBert(checkpoint);
        Assert.Equal(c, loaded.Config);
        using var expected = BertModel.CreateDense(weights, BertModel.CreateUncasedTokenizer(new MemoryStream(vocabulary)));
        using var actual = BertModel.CreateDense(loaded, BertModel.CreateUncasedTokenizer(new MemoryStream(vocabulary)));
        var sentences = MiniLmTests.Sentences.Take(5).ToArray();
        var e = expected.Embed(sentences);
        var a = actual.Embed(sentences);
        for (int i = 0; i < sentences.Length; i++)
        {
            Assert.Equal(e[i], a[i]);
        }
    }

    [Fact]
    public void HalfPrecisionTypes_WidenToTheirExactValues()
    {
        // Bit patterns with hand-known values: F16 3C00 = 1, C000 = −2, 7BFF = 65504, 0001 = 2^−24;
        // BF16 3F80 = 1, C000 = −2, 3EAB = 0.333984375; F64 0.1 rounds to float 0.1f.
        var f16 = new ushort[] { 0x3C00, 0xC000, 0x7BFF, 0x0001 };
        var bf16 = new ushort[] { 0x3F80, 0xC000, 0x3EAB };
        string path = Path.Combine(directory, "types.safetensors");
        WriteSafetensors(path, new[]
        {
            ("h", "F16", new long[] { 2, 2 }, Bytes(f16)),
            ("b", "BF16", new long[] { 3 }, Bytes(bf16)),
            ("d", "F64", new long[] { 1 }, BitConverter.GetBytes(0.1)),
            ("i", "I32", new long[] { 1 }, BitConverter.GetBytes(7)),
        });
        using var file = SafetensorsFile.Open(path);
        Assert.Equal(new[] { 1f, -2f, 65504f, MathF.Pow(2, -24) }, file.ReadFloat32("h", 2, 2));
        Assert.Equal(new[] { 1f, -2f, 0.333984375f }, file.ReadFloat32("b", 3));
        Assert.Equal(new[] { 0.1f }, file.ReadFloat32("d", 1));
        var e = Assert.Throws<ModelFormatException>(() => file.ReadFloat32("i", 1));
        Assert.Contains("dtype I32 is not a floating-point type", e.Message);
        e = Assert.Throws<ModelFormatException>(() => file.ReadFloat32("h", 4));
        Assert.Contains("shape [2, 2] is not the [4]", e.Message);
    }

    [Theory]
    [InlineData("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,4]}}", "a.data_offsets", "4 bytes do not hold F32 2")]
    [InlineData("{\"a\":{\"dtype\":\"U8\",\"shape\":[2],\"data_offsets\":[0,2]},\"b\":{\"dtype\":\"U8\",\"shape\":[2],\"data_offsets\":[1,3]}}", "b.data_offsets", "overlap or leave a hole")]
    [InlineData("{\"a\":{\"dtype\":\"U8\",\"shape\":[2],\"data_offsets\":[0,2]},\"a\":{\"dtype\":\"U8\",\"shape\":[2],\"data_offsets\":[2,4]}}", "a", "appears twice")]
    [InlineData("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}", "a.data_offsets", "[4, 8] is not a range inside the 4 data bytes")]
    [InlineData("{\"a\":{\"dtype\":\"Q4\",\"shape\":[1],\"data_offsets\":[0,4]}}", "a.dtype", "unknown dtype 'Q4'")]
    [InlineData("{\"a\":{\"dtype\":\"F32\",\"shape\":[-1],\"data_offsets\":[0,4]}}", "a.shape", "not a non-negative integer")]
    [InlineData("{\"a\":{\"dtype\":\"F32\",\"shape\":[4294967296,4294967296],\"data_offsets\":[0,4]}}", "a.shape", "overflows 64 bits")]
    [InlineData("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}", "header", "not valid JSON")]
    [InlineData("[1,2]", "header", "not an object")]
    public void InconsistentHeaders_NameTheField(string header, string field, string problem)
    {
        string path = Path.Combine(directory, "bad.safetensors");
        var json = Encoding.UTF8.GetBytes(header);
        File.WriteAllBytes(path, [.. BitConverter.GetBytes((ulong)json.Length), .. json, .. new byte[4]]);
        var e = Assert.Throws<ModelFormatException>(() => SafetensorsFile.Open(path).Dispose());
        Assert.Equal(field, e.Field);
        Assert.Contains(problem, e.Message);
    }

    [Fact]
    public void TruncatedAndBitFlippedFiles_FailWithAFormatError()
    {
        string path = Path.Combine(directory, "ok.safetensors");
        var random = TestData.CreateRandom(nameof(TruncatedAndBitFlippedFiles_FailWithAFormatError));
        var values = Enumerable.Range(0, 64).Select(_ => (float)random.NextDouble() - 0.5f).ToArray();
        WriteSafetensors(path, new[] { ("w", "F32", new long[] { 8, 8 }, Bytes(values)) });
        var bytes = File.ReadAllBytes(path);

        File.WriteAllBytes(path, bytes[..^10]);
        var e = Assert.Throws<ModelFormatException>(() => SafetensorsFile.Open(path).Dispose());
        Assert.Equal("w.data_offsets", e.Field);
        Assert.Contains("[0, 256] is not a range inside the 246 data bytes", e.Message);
        File.WriteAllBytes(path, bytes[..40]);
        e = Assert.Throws<ModelFormatException>(() => SafetensorsFile.Open(path).Dispose());
        Assert.Equal("header length", e.Field);
        Assert.Contains("truncated", e.Message);

        int headerEnd = 8 + (int)BitConverter.ToUInt64(bytes);
        for (int trial = 0; trial < 200; trial++)
        {
            var flipped = (byte[])bytes.Clone();
            flipped[random.Next(headerEnd)] ^= (byte)(1 << random.Next(8));
            File.WriteAllBytes(path, flipped);
            try
            {
                using var file = SafetensorsFile.Open(path);
                foreach (var tensor in file.Tensors.Where(t => t.DType is "F32" or "F16" or "BF16" or "F64"))
                {
                    Assert.Equal(tensor.ElementCount, file.ReadFloat32(tensor).Length);
                }
            }
            catch (ModelFormatException)
            {
            }
        }
    }

    [Fact]
    public void UnsupportedConfigs_SayWhatIsMissing()
    {
        File.WriteAllText(Path.Combine(directory, "config.json"), """{"model_type": "llama", "rope_scaling": {"rope_type": "llama3", "factor": 8.0}}""");
        WriteSafetensors(Path.Combine(directory, "model.safetensors"), Array.Empty<(string, string, long[], byte[])>());
        using (var checkpoint = HuggingFaceCheckpoint.Open(directory))
        {
            var e = Assert.Throws<ModelFormatException>(() => HuggingFaceModels.LoadLlama(checkpoint));
            Assert.Equal("rope_scaling", e.Field);
        }

        File.WriteAllText(Path.Combine(directory, "config.json"), """{"model_type": "qwen2"}""");
        using (var checkpoint = HuggingFaceCheckpoint.Open(directory))
        {
            var e = Assert.Throws<ModelFormatException>(() => HuggingFaceModels.LoadLlama(checkpoint));
            Assert.Contains("'qwen2' is not a Llama-family decoder", e.Message);
        }

        File.Delete(Path.Combine(directory, "model.safetensors"));
        var missing = Assert.Throws<FileNotFoundException>(() => HuggingFaceCheckpoint.Open(directory));
        Assert.Contains("neither model.safetensors nor model.safetensors.index.json", missing.Message);
    }

    /// <summary>convert_llama_weights_to_hf.py's permute: w.view(heads, rows/heads/2, 2, cols).transpose(1, 2).</summary>
    private static float[] HfPermute(float[] w, int heads, int rows, int cols)
    {
        int half = rows / heads / 2;
        var result = new float[w.Length];
        for (int h = 0; h < heads; h++)
        {
            for (int a = 0; a < half; a++)
            {
                for (int b = 0; b < 2; b++)
                {
                    // view index (h, a, b) → transposed index (h, b, a).
                    Array.Copy(w, (long)((((h * half) + a) * 2) + b) * cols, result, (long)((((h * 2) + b) * half) + a) * cols, cols);
                }
            }
        }

        return result;
    }

    private static byte[] Bytes<T>(T[] values)
        where T : unmanaged
        => System.Runtime.InteropServices.MemoryMarshal.AsBytes(values.AsSpan()).ToArray();

    /// <summary>The format as the reference writer lays it out: sorted header, data in order, header padded to 8 bytes.</summary>
    private static void WriteSafetensors(string path, IEnumerable<(string Name, string DType, long[] Shape, byte[] Data)> tensors)
    {
        var header = new StringBuilder("{\"__metadata__\":{\"format\":\"pt\"}");
        var data = new MemoryStream();
        foreach (var (name, dtype, shape, bytes) in tensors)
        {
            header.Append($",\"{name}\":{{\"dtype\":\"{dtype}\",\"shape\":[{string.Join(",", shape)}],\"data_offsets\":[{data.Length},{data.Length + bytes.Length}]}}");
            data.Write(bytes);
        }

        header.Append('}');
        while (Encoding.UTF8.GetByteCount(header.ToString()) % 8 != 0)
        {
            header.Append(' ');
        }

        var json = Encoding.UTF8.GetBytes(header.ToString());
        using var file = File.Create(path);
        file.Write(BitConverter.GetBytes((ulong)json.Length));
        file.Write(json);
        data.Position = 0;
        data.CopyTo(file);
    }
}
