using System;
using System.IO;
using System.Linq;
using KernelGen.Formats.Gguf;
using KernelGen.Formats.Llama2C;
using KernelGen.Formats.Safetensors;
using KernelGen.Formats.SentencePiece;
using KernelGen.Models;
using KernelGen.Quantization;

namespace KernelGen.Cli;

/// <summary>Finds a decoder's weights and tokenizer from what the user points at: a llama2.c .bin, a GGUF, or a Hugging
/// Face directory (config.json + safetensors + tokenizer.model).</summary>
internal static class ModelLoader
{
    public const string Formats = "a llama2.c checkpoint (.bin, tokenizer.bin or tok512.bin beside it), a Llama GGUF (tokenizer from its metadata), " +
        "or a Hugging Face Llama directory (config.json, *.safetensors, tokenizer.model)";

    /// <summary>True when <paramref name="path"/> names a Hugging Face model directory or a file inside one.</summary>
    public static bool IsHuggingFace(string path)
        => Directory.Exists(path) || Path.GetFileName(path) == "config.json" || path.EndsWith(".safetensors", StringComparison.OrdinalIgnoreCase);

    public static (LlamaWeights Weights, ITextTokenizer Tokenizer) LoadDecoder(string modelPath, string? tokenizerPath, int maxContext = 4096)
    {
        if (!File.Exists(modelPath) && !Directory.Exists(modelPath))
        {
            throw new ArgumentException($"Model '{modelPath}' does not exist. Expected {Formats}.");
        }

        if (IsHuggingFace(modelPath))
        {
            using var checkpoint = HuggingFaceCheckpoint.Open(modelPath);
            var weights = HuggingFaceModels.LoadLlama(checkpoint, maxContext);
            if (tokenizerPath is null)
            {
                tokenizerPath = Path.Combine(checkpoint.Directory, "tokenizer.model");
                if (!File.Exists(tokenizerPath))
                {
                    throw new ArgumentException(File.Exists(Path.Combine(checkpoint.Directory, "tokenizer.json"))
                        ? $"{checkpoint.Directory} has tokenizer.json but no tokenizer.model: only SentencePiece tokenizers (Llama 2, Mistral, TinyLlama) are read so far; pass --tokenizer FILE.model."
                        : $"{checkpoint.Directory} has no tokenizer.model: pass --tokenizer FILE.");
                }
            }

            return (weights, LoadTokenizer(tokenizerPath, weights.Config.VocabSize));
        }

        if (modelPath.EndsWith(".gguf", StringComparison.OrdinalIgnoreCase))
        {
            return LoadDecoder(GgufFile.Load(modelPath), tokenizerPath);
        }

        var llama2c = Llama2CCheckpoint.Load(modelPath);
        return (llama2c, LoadTokenizer(tokenizerPath ?? FindLlama2CTokenizer(modelPath), llama2c.Config.VocabSize));
    }

    /// <summary>A Llama decoder and its tokenizer from a GGUF already read (its metadata's tokenizer unless
    /// <paramref name="tokenizerPath"/> is given); projections in a generated scheme's codes stay out of the float32
    /// weights unless <paramref name="dequantizeSchemeCodes"/>.</summary>
    public static (LlamaWeights Weights, ITextTokenizer Tokenizer) LoadDecoder(GgufFile gguf, string? tokenizerPath, bool dequantizeSchemeCodes = true)
    {
        ArgumentNullException.ThrowIfNull(gguf);
        var weights = GgufLlama.LoadWeights(gguf, dequantizeSchemeCodes);
        return (weights, tokenizerPath is null ? GgufLlama.LoadTokenizer(gguf) : LoadTokenizer(tokenizerPath, weights.Config.VocabSize));
    }

    /// <summary>A decoder's weights alone (a compressed copy under evaluation needs no tokenizer), with the bits per
    /// weight its block projections store: measured for GGUF, 32 for float formats.</summary>
    public static (LlamaWeights Weights, double BitsPerWeight, AwqScales? Awq) LoadDecoderWeights(string modelPath)
    {
        if (IsHuggingFace(modelPath))
        {
            using var checkpoint = HuggingFaceCheckpoint.Open(modelPath);
            return (HuggingFaceModels.LoadLlama(checkpoint), 32, null);
        }

        if (modelPath.EndsWith(".gguf", StringComparison.OrdinalIgnoreCase))
        {
            var gguf = GgufFile.Load(modelPath);
            var weights = GgufLlama.LoadWeights(gguf);
            var projections = gguf.Tensors.Where(t => t.Name.StartsWith("blk.", StringComparison.Ordinal) && t.Name.EndsWith(".weight", StringComparison.Ordinal) && t.Dimensions.Length == 2).ToList();

            // A scheme's projection also stores scales and zero points beside its codes; weights count unpadded.
            double Bytes(GgufTensorInfo t) => t.ByteCount
                + (GgufSchemeTensors.Holds(gguf, t.Name)
                    ? gguf.Tensor(t.Name + GgufSchemeTensors.ScalesSuffix).ByteCount + (gguf.TryGetTensor(t.Name + GgufSchemeTensors.ZerosSuffix, out var z) ? z.ByteCount : 0)
                    : 0);
            double Weights(GgufTensorInfo t) => GgufSchemeTensors.Holds(gguf, t.Name) ? weights.Projection(t.Name[..^".weight".Length]).Length : t.ElementCount;
            return (weights, projections.Sum(t => Bytes(t) * 8) / projections.Sum(Weights), GgufQuantizer.ReadAwqScales(gguf, weights.Config.Layers));
        }

        return (Llama2CCheckpoint.Load(modelPath), 32, null);
    }

    /// <summary>A SentencePiece <c>.model</c> (through Microsoft.ML.Tokenizers) or a llama2.c tokenizer file.</summary>
    public static ITextTokenizer LoadTokenizer(string path, int vocabSize)
    {
        if (!File.Exists(path))
        {
            throw new ArgumentException($"Tokenizer '{path}' does not exist.");
        }

        ITextTokenizer tokenizer = path.EndsWith(".model", StringComparison.OrdinalIgnoreCase)
            ? SentencePieceTextTokenizer.Load(path)
            : Llama2CTokenizer.Load(path, vocabSize);
        if (tokenizer.VocabSize > vocabSize)
        {
            throw new ArgumentException($"Tokenizer '{path}' has {tokenizer.VocabSize} tokens but the model's vocabulary is {vocabSize}: they do not belong together.");
        }

        return tokenizer;
    }

    private static string FindLlama2CTokenizer(string modelPath)
    {
        var directory = Path.GetDirectoryName(Path.GetFullPath(modelPath))!;
        foreach (var name in new[] { "tokenizer.bin", "tok512.bin" })
        {
            var candidate = Path.Combine(directory, name);
            if (File.Exists(candidate))
            {
                return candidate;
            }
        }

        throw new ArgumentException($"No tokenizer.bin or tok512.bin beside '{modelPath}': pass --tokenizer FILE.");
    }
}
