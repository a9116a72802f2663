using System;
using System.Collections.Generic;
using System.Linq;
using System.Text.RegularExpressions;
using KernelGen.Quantization;

namespace KernelGen.Formats.Gguf;

/// <summary>
/// Writes a copy of a Llama GGUF with its block projections (attention q/k/v/output, FFN gate/up/down) quantized by
/// round-to-nearest (optionally with a clipping search) or GPTQ into ggml's Q8_0 or Q4_0, through the generated <see cref="GgmlQ8_0"/>/<see cref="GgmlQ4_0"/>
/// schemes. Embeddings, norms and the classifier stay as they are, and so does any projection whose row length is
/// not a multiple of 32 (stories260K's FFN down, K = 172), as llama.cpp's quantizer also falls back.
/// </summary>
public static partial class GgufQuantizer
{
    /// <summary>How the codes are chosen.</summary>
    public enum QuantizeMethod
    {
        /// <summary>Round-to-nearest with min–max (absmax) ranges.</summary>
        Rtn,

        /// <summary>Round-to-nearest with a per-group clipping search (<see cref="ClipSearch"/>).</summary>
        RtnClip,

        /// <summary>GPTQ on calibration text, block by block (<see cref="LlamaQuantizer.Gptq{TScheme}"/>).</summary>
        Gptq,

        /// <summary>GPTQ with activation order and static groups.</summary>
        GptqActOrder,
    }

    [GeneratedRegex(@"^blk\.\d+\.(attn_q|attn_k|attn_v|attn_output|ffn_gate|ffn_up|ffn_down)\.weight$")]
    private static partial Regex ProjectionName();

    /// <summary>Quantizes <paramref name="input"/> into <paramref name="outputPath"/> (written atomically) and returns
    /// the names of the tensors it quantized.</summary>
    /// <param name="input">A Llama GGUF.</param>
    /// <param name="outputPath">Where the quantized copy goes.</param>
    /// <param name="target">Q8_0 or Q4_0.</param>
    /// <param name="method">Round-to-nearest, RTN with a per-group clipping search, or GPTQ (block by block, on
    /// <paramref name="calibration"/>: token sequences, each starting with BOS).</param>
    /// <param name="calibration">Required for GPTQ.</param>
    public static List<string> Quantize(GgufFile input, string outputPath, GgmlType target, QuantizeMethod method = QuantizeMethod.Rtn, IReadOnlyList<IReadOnlyList<int>>? calibration = null)
    {
        ArgumentNullException.ThrowIfNull(input);
        if (target is not (GgmlType.Q8_0 or GgmlType.Q4_0))
        {
            throw new ArgumentException($"{target} is not a quantization target: use Q8_0 or Q4_0.", nameof(target));
        }

        if (method is QuantizeMethod.Gptq or QuantizeMethod.GptqActOrder && (calibration is null || calibration.Count == 0))
        {
            throw new ArgumentException("GPTQ needs calibration sequences.", nameof(calibration));
        }

        // Calibrated and clipped methods see the whole model (GPTQ quantizes block by block); RTN goes tensor by tensor.
        Dictionary<string, byte[]>? blocks = null;
        if (method != QuantizeMethod.Rtn)
        {
            var weights = GgufLlama.LoadWeights(input);
            var gptq = new GptqOptions(ActOrder: method == QuantizeMethod.GptqActOrder);
            blocks = target == GgmlType.Q8_0
                ? (method == QuantizeMethod.RtnClip ? LlamaQuantizer.RtnClipped<GgmlQ8_0>(weights) : LlamaQuantizer.Gptq<GgmlQ8_0>(weights, calibration!, gptq))
                    .ToDictionary(kv => kv.Key + ".weight", kv => GgmlBlocks.ToQ8_0(kv.Value))
                : (method == QuantizeMethod.RtnClip ? LlamaQuantizer.RtnClipped<GgmlQ4_0>(weights) : LlamaQuantizer.Gptq<GgmlQ4_0>(weights, calibration!, gptq))
                    .ToDictionary(kv => kv.Key + ".weight", kv => GgmlBlocks.ToQ4_0(kv.Value));
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
            byte[] data;
            if (blocks is not null)
            {
                data = blocks[tensor.Name];
            }
            else
            {
                var floats = input.ReadFloats(tensor);
                data = target == GgmlType.Q8_0
                    ? GgmlBlocks.ToQ8_0(QuantizedMatrix<GgmlQ8_0>.Quantize(floats, rows, cols))
                    : GgmlBlocks.ToQ4_0(QuantizedMatrix<GgmlQ4_0>.Quantize(floats, rows, cols));
            }

            writer.ReplaceTensor(tensor.Name, target, tensor.Dimensions, data);
            quantized.Add(tensor.Name);
        }

        // llama.cpp's file type (llama_ftype): 7 = mostly Q8_0, 2 = mostly Q4_0.
        writer.Set("general.file_type", GgufValueType.UInt32, target == GgmlType.Q8_0 ? 7u : 2u);
        writer.Set("general.quantization_version", GgufValueType.UInt32, 2u);
        writer.Save(outputPath);
        return quantized;
    }
}
