using System;
using System.IO;
using System.Runtime.InteropServices;
using KernelGen.Models;

namespace KernelGen.Formats.Llama2C;

/// <summary>
/// Reads llama2.c's legacy ("v0") checkpoint: a header of 7 little-endian int32 (dim, hidden_dim, n_layers, n_heads,
/// n_kv_heads, vocab_size, seq_len; a negative vocab_size means an unshared classifier follows the weights), then
/// float32 arrays, matrices row-major [out][in]: token embedding, rms_att, wq, wk, wv, wo, rms_ffn, w1, w2, w3,
/// rms_final, freq_cis_real, freq_cis_imag, [wcls].
/// </summary>
public static class Llama2CCheckpoint
{
    private const int HeaderBytes = 7 * sizeof(int);

    /// <summary>Upper bounds on header values: no header may make the reader allocate without bound.</summary>
    private const int MaxDim = 1 << 16, MaxLayers = 1024, MaxVocab = 1 << 22, MaxSeqLen = 1 << 20;

    /// <summary>Loads a checkpoint. Every header value is range-checked and the file size must match it exactly.</summary>
    /// <exception cref="ModelFormatException">Truncated, oversized or inconsistent file; names the field and offset.</exception>
    public static LlamaWeights Load(string path)
    {
        using var stream = File.OpenRead(path);
        long length = stream.Length;
        if (length < HeaderBytes)
        {
            throw new ModelFormatException(path, "header", 0, $"the file has {length} bytes; a llama2.c checkpoint starts with a {HeaderBytes}-byte header");
        }

        Span<int> header = stackalloc int[7];
        stream.ReadExactly(MemoryMarshal.AsBytes(header));
        string[] names = { "dim", "hidden_dim", "n_layers", "n_heads", "n_kv_heads", "vocab_size", "seq_len" };
        int[] limits = { MaxDim, MaxDim * 16, MaxLayers, MaxDim, MaxDim, MaxVocab, MaxSeqLen };
        for (int i = 0; i < 7; i++)
        {
            int value = i == 5 ? Math.Abs(header[i]) : header[i];
            if (value <= 0 || value > limits[i] || header[i] == int.MinValue)
            {
                throw new ModelFormatException(path, names[i], i * 4, $"{header[i]} is outside 1…{limits[i]}: not a llama2.c checkpoint, or a corrupted one");
            }
        }

        var config = new LlamaConfig(header[0], header[1], header[2], header[3], header[4], Math.Abs(header[5]), header[6], header[5] > 0);
        if (config.Dim % config.Heads != 0 || config.HeadSize % 2 != 0)
        {
            throw new ModelFormatException(path, "n_heads", 12, $"{config.Heads} heads do not split dim {config.Dim} into even head sizes");
        }

        if (config.KvHeads > config.Heads || config.Heads % config.KvHeads != 0)
        {
            throw new ModelFormatException(path, "n_kv_heads", 16, $"{config.KvHeads} does not divide n_heads {config.Heads}");
        }

        int d = config.Dim, h = config.HiddenDim, l = config.Layers, kv = config.KvDim, v = config.VocabSize;
        long[] sizes =
        {
            (long)v * d, (long)l * d, (long)l * d * d, (long)l * kv * d, (long)l * kv * d, (long)l * d * d, (long)l * d,
            (long)l * h * d, (long)l * d * h, (long)l * h * d, d, (long)config.SeqLen * config.HeadSize / 2, (long)config.SeqLen * config.HeadSize / 2,
            config.SharedClassifier ? 0 : (long)v * d,
        };
        long expected = HeaderBytes;
        foreach (long size in sizes)
        {
            expected += size * sizeof(float);
        }

        if (length != expected)
        {
            throw new ModelFormatException(path, length < expected ? "weights" : "end of file", Math.Min(length, expected),
                $"the header ({config}) needs exactly {expected} bytes but the file has {length}" + (length < expected ? ": truncated" : ": trailing data"));
        }

        long offset = HeaderBytes;
        float[] Read(string field, long count)
        {
            var data = new float[count];
            int read = stream.ReadAtLeast(MemoryMarshal.AsBytes(data.AsSpan()), (int)(count * sizeof(float)), throwOnEndOfStream: false);
            if (read != count * sizeof(float))
            {
                throw new ModelFormatException(path, field, offset, $"only {read} of {count * sizeof(float)} bytes could be read");
            }

            for (long i = 0; i < count; i++)
            {
                if (!float.IsFinite(data[i]))
                {
                    throw new ModelFormatException(path, field, offset + (i * sizeof(float)), $"element {i} is {data[i]}: weights must be finite");
                }
            }

            offset += count * sizeof(float);
            return data;
        }

        var weights = new LlamaWeights
        {
            Config = config,
            TokenEmbedding = Read("token_embedding_table", sizes[0]),
            RmsAttention = Read("rms_att_weight", sizes[1]),
            Wq = Read("wq", sizes[2]),
            Wk = Read("wk", sizes[3]),
            Wv = Read("wv", sizes[4]),
            Wo = Read("wo", sizes[5]),
            RmsFfn = Read("rms_ffn_weight", sizes[6]),
            W1 = Read("w1", sizes[7]),
            W2 = Read("w2", sizes[8]),
            W3 = Read("w3", sizes[9]),
            RmsFinal = Read("rms_final_weight", sizes[10]),
        };
        _ = Read("freq_cis_real", sizes[11]); // RoPE is recomputed (run.c ignores these too)
        _ = Read("freq_cis_imag", sizes[12]);
        return config.SharedClassifier ? weights : weights with { Classifier = Read("wcls", sizes[13]) };
    }
}
