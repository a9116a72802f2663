using System;
using System.Globalization;
using System.Text.Json;
using KernelGen.Models;

namespace KernelGen.Formats.Safetensors;

/// <summary>
/// Llama-family decoders and BERT-family encoders from a Hugging Face directory (config.json + safetensors), mapped onto
/// <see cref="LlamaWeights"/> and <see cref="BertWeights"/>. Linear weights are PyTorch's [out, in], the layout those
/// records use, so they are copied as stored (F16/BF16 widened to float32).
/// </summary>
public static class HuggingFaceModels
{
    /// <summary>
    /// Reads a <c>LlamaForCausalLM</c> (or Mistral) checkpoint. The KV cache is sized to
    /// min(max_position_embeddings, <paramref name="maxContext"/>) positions.
    /// </summary>
    /// <remarks>
    /// Hugging Face stores q_proj and k_proj with each head's rows permuted for its rotate-half RoPE
    /// (convert_llama_weights_to_hf.py: row h·hs + t·hs/2 + i holds Meta's row h·hs + 2i + t). This runtime rotates
    /// adjacent pairs, as Meta, llama2.c and llama.cpp do, so the permutation is undone on load.
    /// </remarks>
    /// <exception cref="ModelFormatException">Not a Llama-family config, an unsupported option, or a missing or misshapen tensor.</exception>
    public static LlamaWeights LoadLlama(HuggingFaceCheckpoint checkpoint, int maxContext = 4096)
    {
        ArgumentNullException.ThrowIfNull(checkpoint);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxContext, 1);
        string path = checkpoint.ConfigPath;
        string modelType = checkpoint.String("model_type", string.Empty);
        if (modelType is not ("llama" or "mistral"))
        {
            throw new ModelFormatException(path, "model_type", 0, $"'{modelType}' is not a Llama-family decoder (llama, mistral)");
        }

        Refuse(checkpoint, "hidden_act", checkpoint.String("hidden_act", "silu") != "silu", "only SwiGLU (silu) MLPs are implemented");
        Refuse(checkpoint, "attention_bias", checkpoint.Bool("attention_bias", false), "projections with biases are not implemented");
        Refuse(checkpoint, "mlp_bias", checkpoint.Bool("mlp_bias", false), "projections with biases are not implemented");
        if (checkpoint.Config.TryGetProperty("rope_scaling", out var scaling) && scaling.ValueKind != JsonValueKind.Null)
        {
            throw new ModelFormatException(path, "rope_scaling", 0, $"{scaling.GetRawText()}: scaled RoPE (Llama 3.1 'llama3', 'linear', 'yarn') is not implemented; only plain RoPE with rope_theta");
        }

        int dim = checkpoint.Int("hidden_size");
        int heads = checkpoint.Int("num_attention_heads");
        int kvHeads = checkpoint.Int("num_key_value_heads", heads);
        int layers = checkpoint.Int("num_hidden_layers");
        int hidden = checkpoint.Int("intermediate_size");
        int vocab = checkpoint.Int("vocab_size");
        int positions = checkpoint.Int("max_position_embeddings", 2048);
        if (heads > 0 && checkpoint.Int("head_dim", dim / heads) != dim / heads)
        {
            throw new ModelFormatException(path, "head_dim", 0, $"{checkpoint.Int("head_dim")} differs from hidden_size / num_attention_heads = {dim / heads}; decoupled head sizes are not implemented");
        }

        bool tied = checkpoint.Bool("tie_word_embeddings", false) || !checkpoint.Contains("lm_head.weight");
        var config = new LlamaConfig(dim, hidden, layers, heads, kvHeads, vocab, Math.Min(positions, maxContext), tied)
        {
            RopeTheta = checkpoint.Number("rope_theta", 10000.0),
            NormEpsilon = (float)checkpoint.Number("rms_norm_eps", 1e-6),
        };
        try
        {
            config.Validate();
        }
        catch (ArgumentException e)
        {
            throw new ModelFormatException(path, "hidden_size / num_*_heads / *_size", 0, e.Message);
        }

        int kv = config.KvDim, hs = config.HeadSize;
        float[] Stack(string suffix, int rows, int cols, int permuteHeads = 0)
        {
            var all = new float[(long)layers * rows * cols];
            for (int l = 0; l < layers; l++)
            {
                string name = $"model.layers.{l}.{suffix}";
                var layer = rows == 1 ? checkpoint.Read(name, cols) : checkpoint.Read(name, rows, cols);
                if (permuteHeads > 0)
                {
                    layer = UnpermuteRotaryRows(layer, permuteHeads, hs, cols);
                }

                layer.CopyTo(all, (long)l * rows * cols);
            }

            return all;
        }

        return new LlamaWeights
        {
            Config = config,
            TokenEmbedding = checkpoint.Read("model.embed_tokens.weight", vocab, dim),
            RmsAttention = Stack("input_layernorm.weight", 1, dim),
            Wq = Stack("self_attn.q_proj.weight", dim, dim, heads),
            Wk = Stack("self_attn.k_proj.weight", kv, dim, kvHeads),
            Wv = Stack("self_attn.v_proj.weight", kv, dim),
            Wo = Stack("self_attn.o_proj.weight", dim, dim),
            RmsFfn = Stack("post_attention_layernorm.weight", 1, dim),
            W1 = Stack("mlp.gate_proj.weight", hidden, dim),
            W2 = Stack("mlp.down_proj.weight", dim, hidden),
            W3 = Stack("mlp.up_proj.weight", hidden, dim),
            RmsFinal = checkpoint.Read("model.norm.weight", dim),
            Classifier = tied ? Array.Empty<float>() : checkpoint.Read("lm_head.weight", vocab, dim),
        };
    }

    /// <summary>
    /// Reads a BERT-family encoder (<c>BertModel</c>, or the <c>bert.</c> part of a task model): embeddings, encoder
    /// blocks with post-LayerNorm and GELU (erf). Pooler and task heads are ignored.
    /// </summary>
    /// <exception cref="ModelFormatException">Not a BERT config, an unsupported option, or a missing or misshapen tensor.</exception>
    public static BertWeights LoadBert(HuggingFaceCheckpoint checkpoint)
    {
        ArgumentNullException.ThrowIfNull(checkpoint);
        string path = checkpoint.ConfigPath;
        string modelType = checkpoint.String("model_type", string.Empty);
        if (modelType != "bert")
        {
            throw new ModelFormatException(path, "model_type", 0, $"'{modelType}' is not 'bert'");
        }

        Refuse(checkpoint, "hidden_act", checkpoint.String("hidden_act", "gelu") != "gelu", "only GELU with erf ('gelu') is implemented");
        Refuse(checkpoint, "position_embedding_type", checkpoint.String("position_embedding_type", "absolute") != "absolute", "only absolute position embeddings are implemented");
        int hidden = checkpoint.Int("hidden_size");
        int heads = checkpoint.Int("num_attention_heads");
        int layers = checkpoint.Int("num_hidden_layers");
        int intermediate = checkpoint.Int("intermediate_size");
        int vocab = checkpoint.Int("vocab_size");
        int positions = checkpoint.Int("max_position_embeddings");
        int types = checkpoint.Int("type_vocab_size", 2);
        if (hidden <= 0 || heads <= 0 || hidden % heads != 0 || layers <= 0 || intermediate <= 0 || vocab <= 0 || positions <= 0 || types <= 0)
        {
            throw new ModelFormatException(path, "hidden_size / num_attention_heads", 0,
                string.Create(CultureInfo.InvariantCulture, $"hidden {hidden}, {heads} heads, {layers} layers, intermediate {intermediate}, vocab {vocab}, {positions} positions, {types} token types: every size must be positive and heads must divide hidden"));
        }

        var config = new BertConfig(hidden, layers, heads, intermediate, vocab, positions)
        {
            LayerNormEpsilon = (float)checkpoint.Number("layer_norm_eps", 1e-12),
        };
        string prefix = checkpoint.Contains("bert.embeddings.word_embeddings.weight") ? "bert." : string.Empty;
        float[] Read(string name, params long[] shape) => checkpoint.Read(prefix + name, shape);

        var blocks = new BertLayerWeights[layers];
        for (int l = 0; l < layers; l++)
        {
            string p = $"encoder.layer.{l}.";
            blocks[l] = new BertLayerWeights(
                Read(p + "attention.self.query.weight", hidden, hidden), Read(p + "attention.self.query.bias", hidden),
                Read(p + "attention.self.key.weight", hidden, hidden), Read(p + "attention.self.key.bias", hidden),
                Read(p + "attention.self.value.weight", hidden, hidden), Read(p + "attention.self.value.bias", hidden),
                Read(p + "attention.output.dense.weight", hidden, hidden), Read(p + "attention.output.dense.bias", hidden),
                Read(p + "attention.output.LayerNorm.weight", hidden), Read(p + "attention.output.LayerNorm.bias", hidden),
                Read(p + "intermediate.dense.weight", intermediate, hidden), Read(p + "intermediate.dense.bias", intermediate),
                Read(p + "output.dense.weight", hidden, intermediate), Read(p + "output.dense.bias", hidden),
                Read(p + "output.LayerNorm.weight", hidden), Read(p + "output.LayerNorm.bias", hidden));
        }

        return new BertWeights(
            config,
            Read("embeddings.word_embeddings.weight", vocab, hidden),
            Read("embeddings.position_embeddings.weight", positions, hidden),
            Read("embeddings.token_type_embeddings.weight", types, hidden),
            Read("embeddings.LayerNorm.weight", hidden),
            Read("embeddings.LayerNorm.bias", hidden),
            blocks);
    }

    /// <summary>Undoes Hugging Face's rotate-half permutation of one q/k projection ([heads·headSize, cols]).</summary>
    public static float[] UnpermuteRotaryRows(float[] hf, int heads, int headSize, int cols)
    {
        ArgumentNullException.ThrowIfNull(hf);
        var meta = new float[hf.Length];
        int half = headSize / 2;
        for (int h = 0; h < heads; h++)
        {
            for (int i = 0; i < half; i++)
            {
                for (int t = 0; t < 2; t++)
                {
                    int source = (h * headSize) + (t * half) + i;
                    int target = (h * headSize) + (2 * i) + t;
                    Array.Copy(hf, (long)source * cols, meta, (long)target * cols, cols);
                }
            }
        }

        return meta;
    }

    private static void Refuse(HuggingFaceCheckpoint checkpoint, string key, bool unsupported, string why)
    {
        if (unsupported && checkpoint.Config.TryGetProperty(key, out var value))
        {
            throw new ModelFormatException(checkpoint.ConfigPath, key, 0, $"{value.GetRawText()}: {why}");
        }
    }
}
