using System;
using System.Collections.Generic;
using System.Text.RegularExpressions;
using KernelGen.Quantization;

namespace KernelGen.Formats.Gguf;

/// <summary>
/// Writes a copy of a Llama GGUF with its block projections (attention q/k/v/output, FFN gate/up/down) quantized by
/// round-to-nearest into ggml's Q8_0 or Q4_0, through the generated <see cref="GgmlQ8_0"/>/<see cref="GgmlQ4_0"/>
/// schemes. Embeddings, norms and the classifier stay as they are, and so does any projection whose row length is
/// not a multiple of 32 (stories260K's FFN down, K = 172), as llama.cpp's quantizer also falls back.
/// </summary>
public static partial class GgufQuantizer
{
    [GeneratedRegex(@"^blk\.\d+\.(attn_q|attn_k|attn_v|attn_output|ffn_gate|ffn_up|ffn_down)\.weight$")]
    private static partial Regex ProjectionName();

    /// <summary>Quantizes <paramref name="input"/> into <paramref name="outputPath"/> (written atomically) and returns
    /// the names of the tensors it quantized.</summary>
    public static List<string> Quantize(GgufFile input, string outputPath, GgmlType target)
    {
        ArgumentNullException.ThrowIfNull(input);
        if (target is not (GgmlType.Q8_0 or GgmlType.Q4_0))
        {
            throw new ArgumentException($"{target} is not a quantization target: use Q8_0 or Q4_0.", nameof(target));
        }

        var writer = GgufWriter.From(input);
        var quantized = new List<string>();
        foreach (var tensor in input.Tensors)
        {
            if (!ProjectionName().IsMatch(tensor.Name) || tensor.Dimensions.Length != 2 || tensor.Dimensions[0] % QuantDims.ChunkSize != 0)
            {
                continue;
            }

            int cols = (int)tensor.Dimensions[0], rows = (int)tensor.Dimensions[1];
            var floats = input.ReadFloats(tensor);
            byte[] blocks = target == GgmlType.Q8_0
                ? GgmlBlocks.ToQ8_0(QuantizedMatrix<GgmlQ8_0>.Quantize(floats, rows, cols))
                : GgmlBlocks.ToQ4_0(QuantizedMatrix<GgmlQ4_0>.Quantize(floats, rows, cols));
            writer.ReplaceTensor(tensor.Name, target, tensor.Dimensions, blocks);
            quantized.Add(tensor.Name);
        }

        // llama.cpp's file type (llama_ftype): 7 = mostly Q8_0, 2 = mostly Q4_0.
        writer.Set("general.file_type", GgufValueType.UInt32, target == GgmlType.Q8_0 ? 7u : 2u);
        writer.Set("general.quantization_version", GgufValueType.UInt32, 2u);
        writer.Save(outputPath);
        return quantized;
    }
}
