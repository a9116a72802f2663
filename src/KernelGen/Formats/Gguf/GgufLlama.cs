using System;
using System.Globalization;
using System.Linq;
using KernelGen.Formats.Llama2C;
using KernelGen.Models;

namespace KernelGen.Formats.Gguf;

/// <summary>A Llama-architecture GGUF (as llama.cpp writes it) as <see cref="LlamaWeights"/> and a tokenizer.</summary>
public static class GgufLlama
{
    /// <summary>Reads the model's hyper-parameters and dequantizes every tensor to float32.</summary>
    /// <param name="file">A Llama GGUF: llama.cpp's types, or a generated scheme's codes (<see cref="GgufSchemeTensors"/>).</param>
    /// <param name="dequantizeSchemeCodes">False leaves out the block projections a generated scheme stores: their
    /// arrays in the result are empty (<see cref="LlamaWeights.HasProjectionWeights"/>), for a caller that runs the
    /// stored codes and would otherwise hold a float32 copy of each (8 bytes for every 4-bit weight's half byte). Their
    /// shapes are checked when the codes are read (<see cref="GgufSchemeTensors.Read{TScheme}"/>).</param>
    /// <exception cref="ModelFormatException">Not a llama GGUF, a missing key or tensor, or a tensor of the wrong shape.</exception>
    public static LlamaWeights LoadWeights(GgufFile file, bool dequantizeSchemeCodes = true)
    {
        ArgumentNullException.ThrowIfNull(file);
        string architecture = file.Get("general.architecture", string.Empty);
        if (architecture != "llama")
        {
            throw new ModelFormatException(file.Path, "general.architecture", 0, $"'{architecture}' is not 'llama': only Llama-family decoders load from GGUF so far");
        }

        var embedding = file.Tensor("token_embd.weight");
        int dim = file.Require<int>("llama.embedding_length");
        int vocab = (int)embedding.Dimensions[^1];
        int heads = file.Require<int>("llama.attention.head_count");
        var config = new LlamaConfig(
            dim,
            file.Require<int>("llama.feed_forward_length"),
            file.Require<int>("llama.block_count"),
            heads,
            file.Get("llama.attention.head_count_kv", heads),
            vocab,
            file.Require<int>("llama.context_length"),
            SharedClassifier: !HasTensor(file, "output.weight"))
        {
            RopeTheta = file.Get("llama.rope.freq_base", 10000.0),
            NormEpsilon = (float)file.Get("llama.attention.layer_norm_rms_epsilon", 1e-5),
        };
        try
        {
            config.Validate();
        }
        catch (ArgumentException e)
        {
            throw new ModelFormatException(file.Path, "llama.* hyper-parameters", 0, e.Message);
        }

        int l = config.Layers, d = config.Dim, h = config.HiddenDim, kv = config.KvDim;
        if (l * 9L > file.Tensors.Count)
        {
            throw new ModelFormatException(file.Path, "llama.block_count", 0, $"{l} blocks need {l * 9L} tensors but the file has {file.Tensors.Count}");
        }

        float[] Stack(string suffix, int rows, int cols)
        {
            if (!dequantizeSchemeCodes && Enumerable.Range(0, l).All(layer => GgufSchemeTensors.Holds(file, $"blk.{layer}.{suffix}")))
            {
                return Array.Empty<float>();
            }

            // Layer 0 is read (and its shape checked against the file) before the stack is allocated.
            var first = Read($"blk.0.{suffix}", rows, cols);
            var all = new float[(long)l * first.Length];
            first.CopyTo(all, 0);
            for (int layer = 1; layer < l; layer++)
            {
                Read($"blk.{layer}.{suffix}", rows, cols).CopyTo(all, (long)layer * rows * cols);
            }

            return all;
        }

        float[] Read(string name, int rows, int cols)
        {
            if (GgufSchemeTensors.Holds(file, name))
            {
                return GgufSchemeTensors.Dequantize(file, name, rows, cols); // a generated scheme's codes (kernelgen quantize --scheme)
            }

            var tensor = file.Tensor(name);
            long expected = (long)rows * cols;
            bool shapeOk = tensor.ElementCount == expected && tensor.Dimensions[0] == cols;
            if (!shapeOk)
            {
                throw new ModelFormatException(file.Path, name, file.DataStart + tensor.Offset,
                    string.Create(CultureInfo.InvariantCulture, $"shape {tensor.Shape} is not the [{rows} × {cols}] that the hyper-parameters ({config}) need"));
            }

            return file.ReadFloats(tensor);
        }

        var weights = new LlamaWeights
        {
            Config = config,
            TokenEmbedding = Read("token_embd.weight", config.VocabSize, d),
            RmsAttention = Stack("attn_norm.weight", 1, d),
            Wq = Stack("attn_q.weight", d, d),
            Wk = Stack("attn_k.weight", kv, d),
            Wv = Stack("attn_v.weight", kv, d),
            Wo = Stack("attn_output.weight", d, d),
            RmsFfn = Stack("ffn_norm.weight", 1, d),
            W1 = Stack("ffn_gate.weight", h, d),
            W2 = Stack("ffn_down.weight", d, h),
            W3 = Stack("ffn_up.weight", h, d),
            RmsFinal = Read("output_norm.weight", 1, d),
        };
        return config.SharedClassifier ? weights : weights with { Classifier = Read("output.weight", config.VocabSize, d) };
    }

    /// <summary>The tokenizer stored in the metadata (tokenizer.ggml.model "llama": SentencePiece BPE).</summary>
    public static Llama2CTokenizer LoadTokenizer(GgufFile file)
    {
        ArgumentNullException.ThrowIfNull(file);
        string model = file.Get("tokenizer.ggml.model", string.Empty);
        if (model != "llama")
        {
            throw new ModelFormatException(file.Path, "tokenizer.ggml.model", 0, $"'{model}' is not 'llama' (SentencePiece BPE), the only tokenizer read from GGUF so far");
        }

        if (file.Get("tokenizer.ggml.bos_token_id", 1L) != Llama2CTokenizer.Bos || file.Get("tokenizer.ggml.eos_token_id", 2L) != Llama2CTokenizer.Eos)
        {
            throw new ModelFormatException(file.Path, "tokenizer.ggml.bos_token_id", 0, "BOS must be 1 and EOS 2, as in llama2.c models");
        }

        var tokens = file.Metadata.TryGetValue("tokenizer.ggml.tokens", out var t) && t is object[] tokenArray
            ? tokenArray
            : throw new ModelFormatException(file.Path, "tokenizer.ggml.tokens", 0, "missing or not an array");
        var scores = file.Metadata.TryGetValue("tokenizer.ggml.scores", out var s) && s is object[] scoreArray && scoreArray.Length == tokens.Length
            ? scoreArray
            : throw new ModelFormatException(file.Path, "tokenizer.ggml.scores", 0, "missing, not an array, or not one score per token");
        var pieces = new string[tokens.Length];
        var values = new float[tokens.Length];
        for (int i = 0; i < pieces.Length; i++)
        {
            pieces[i] = tokens[i] as string ?? throw new ModelFormatException(file.Path, $"tokenizer.ggml.tokens[{i}]", 0, "not a string");
            values[i] = scores[i] switch
            {
                double value when double.IsFinite(value) => (float)value,
                long value => value,
                _ => throw new ModelFormatException(file.Path, $"tokenizer.ggml.scores[{i}]", 0, $"{scores[i]} is not a finite number"),
            };
        }

        return Llama2CTokenizer.FromVocabulary(pieces, values);
    }

    private static bool HasTensor(GgufFile file, string name)
    {
        foreach (var tensor in file.Tensors)
        {
            if (tensor.Name == name)
            {
                return true;
            }
        }

        return false;
    }
}
