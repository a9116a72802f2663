using System;
using System.Collections.Generic;
using System.Linq;
using System.Text.RegularExpressions;
using KernelGen.Models;
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

        /// <summary>AWQ on calibration text with its clip search, the scales folded into the norms and the v/up rows
        /// (<see cref="LlamaQuantizer.Awq{TScheme}"/>); the file's norms and any unquantized projection that a
        /// scale reaches are rewritten as F32.</summary>
        Awq,
    }

    [GeneratedRegex(@"^blk\.\d+\.(attn_q|attn_k|attn_v|attn_output|ffn_gate|ffn_up|ffn_down)\.weight$")]
    private static partial Regex ProjectionName();

    [GeneratedRegex(@"^blk\.(\d+)\.(attn_norm|ffn_norm|attn_q|attn_k|attn_v|attn_output|ffn_gate|ffn_up|ffn_down)\.weight$")]
    private static partial Regex BlockTensorName();

    /// <summary>A block projection whose rows fill whole ggml blocks of 32 (others stay as they are, as in llama.cpp).</summary>
    private static bool Quantizable(GgufTensorInfo tensor)
        => ProjectionName().IsMatch(tensor.Name) && tensor.Dimensions.Length == 2 && tensor.Dimensions[0] % QuantDims.ChunkSize == 0;

    /// <summary>Every method over the whole model: the quantized projections by name ("blk.N.attn_q"), and for AWQ the
    /// folded float model and its scales. GPTQ and AWQ go block by block on <paramref name="calibration"/>.</summary>
    private static (Dictionary<string, QuantizedMatrix<TScheme>> Matrices, LlamaWeights? Folded, AwqScales? Scales) WholeModel<TScheme>(
        LlamaWeights weights, QuantizeMethod method, IReadOnlyList<IReadOnlyList<int>>? calibration, Func<string, bool> quantize)
        where TScheme : struct, IQuantScheme
    {
        switch (method)
        {
            case QuantizeMethod.Rtn:
                return (LlamaQuantizer.Rtn<TScheme>(weights), null, null);
            case QuantizeMethod.RtnClip:
                return (LlamaQuantizer.RtnClipped<TScheme>(weights), null, null);
            case QuantizeMethod.Awq:
                // Only the projections written quantized get scales searched for them.
                var awq = LlamaQuantizer.Awq<TScheme>(weights, calibration!, quantize: quantize);
                return (awq.Quantized, awq.Folded, awq.Scales);
            default:
                return (LlamaQuantizer.Gptq<TScheme>(weights, calibration!, new GptqOptions(ActOrder: method == QuantizeMethod.GptqActOrder)), null, null);
        }
    }

    /// <summary>Refuses a file already in a KernelGen scheme and a calibrated method without calibration.</summary>
    private static void CheckInput(GgufFile input, QuantizeMethod method, IReadOnlyList<IReadOnlyList<int>>? calibration)
    {
        ArgumentNullException.ThrowIfNull(input);
        if (GgufSchemeTensors.ReadScheme(input) is { } already)
        {
            throw new ArgumentException($"{input.Path} is already quantized with {already}: quantize the float model instead.", nameof(input));
        }

        if (method is QuantizeMethod.Gptq or QuantizeMethod.GptqActOrder or QuantizeMethod.Awq && (calibration is null || calibration.Count == 0))
        {
            throw new ArgumentException($"{method} needs calibration sequences.", nameof(calibration));
        }
    }

    /// <summary>Writes <paramref name="tensor"/> as F32 from the AWQ-folded model when folding changed it (a norm gain, or
    /// an unquantized projection a scale reaches); false when it is not a block tensor of the folded model.</summary>
    private static bool RewriteFolded(GgufWriter writer, GgufFile input, LlamaWeights folded, GgufTensorInfo tensor)
    {
        if (FoldedTensor(folded, tensor.Name) is not { } changed)
        {
            return false;
        }

        if (!changed.Span.SequenceEqual(input.ReadFloats(tensor)))
        {
            writer.ReplaceTensor(tensor.Name, GgmlType.F32, tensor.Dimensions, System.Runtime.InteropServices.MemoryMarshal.AsBytes(changed.Span).ToArray());
        }

        return true;
    }

    private static string AwqKey(int layer, string kind) => FormattableString.Invariant($"kernelgen.awq.blk.{layer}.{kind}_scales");

    /// <summary>The AWQ input scales a file written by <see cref="Quantize"/> with <see cref="QuantizeMethod.Awq"/>
    /// records (metadata "kernelgen.awq.blk.N.{attn|attn_output|ffn|ffn_down}_scales"), or null when it has none.</summary>
    public static AwqScales? ReadAwqScales(GgufFile file, int layers)
    {
        ArgumentNullException.ThrowIfNull(file);
        float[]?[] Read(string kind) => Enumerable.Range(0, layers)
            .Select(l => file.Metadata.TryGetValue(AwqKey(l, kind), out var value) && value is object[] values
                ? values.Select(v => Convert.ToSingle(v, System.Globalization.CultureInfo.InvariantCulture)).ToArray()
                : null)
            .ToArray();
        var scales = new AwqScales(Read("attn"), Read("attn_output"), Read("ffn"), Read("ffn_down"));
        return new[] { scales.Attention, scales.AttentionOutput, scales.Ffn, scales.FfnDown }.Any(a => a.Any(s => s is not null)) ? scales : null;
    }

    /// <summary>The folded model's values of a block tensor (norm gain or projection, as GGUF lays it out), or null.</summary>
    private static ReadOnlyMemory<float>? FoldedTensor(LlamaWeights folded, string name)
    {
        var match = BlockTensorName().Match(name);
        if (!match.Success)
        {
            return null;
        }

        int layer = int.Parse(match.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture), d = folded.Config.Dim;
        return match.Groups[2].Value switch
        {
            "attn_norm" => LlamaWeights.Layer(folded.RmsAttention, layer, d),
            "ffn_norm" => LlamaWeights.Layer(folded.RmsFfn, layer, d),
            var kind => folded.Projection($"blk.{layer}.{kind}"),
        };
    }

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
        CheckInput(input, method, calibration);
        if (target is not (GgmlType.Q8_0 or GgmlType.Q4_0))
        {
            throw new ArgumentException($"{target} is not a quantization target: use Q8_0 or Q4_0.", nameof(target));
        }

        // Calibrated and clipped methods see the whole model (GPTQ quantizes block by block); RTN goes tensor by tensor.
        Dictionary<string, byte[]>? blocks = null;
        LlamaWeights? folded = null;
        AwqScales? awqScales = null;
        if (method != QuantizeMethod.Rtn)
        {
            var weights = GgufLlama.LoadWeights(input);
            bool Written(string name) => Quantizable(input.Tensor(name + ".weight"));
            if (target == GgmlType.Q8_0)
            {
                var (matrices, f, a) = WholeModel<GgmlQ8_0>(weights, method, calibration, Written);
                (blocks, folded, awqScales) = (matrices.Where(kv => Written(kv.Key)).ToDictionary(kv => kv.Key + ".weight", kv => GgmlBlocks.ToQ8_0(kv.Value)), f, a);
            }
            else
            {
                var (matrices, f, a) = WholeModel<GgmlQ4_0>(weights, method, calibration, Written);
                (blocks, folded, awqScales) = (matrices.Where(kv => Written(kv.Key)).ToDictionary(kv => kv.Key + ".weight", kv => GgmlBlocks.ToQ4_0(kv.Value)), f, a);
            }
        }

        var writer = GgufWriter.From(input);
        var quantized = new List<string>();
        foreach (var tensor in input.Tensors)
        {
            if (folded is not null && !blocks!.ContainsKey(tensor.Name) && RewriteFolded(writer, input, folded, tensor))
            {
                continue;
            }

            if (!Quantizable(tensor))
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
        WriteAwqScales(writer, awqScales);
        writer.Save(outputPath);
        return quantized;
    }

    /// <summary>Quantizes the block projections of <paramref name="input"/> with the generated scheme
    /// <typeparamref name="TScheme"/> into <paramref name="outputPath"/> (written atomically), stored in the scheme's own
    /// layout (<see cref="GgufSchemeTensors"/>: KernelGen reads it back exactly; llama.cpp cannot). Every projection is
    /// quantized, K padded with zero weights to whole groups where it does not fit, as in memory. Returns the tensors
    /// quantized.</summary>
    /// <param name="input">A Llama GGUF (float, or ggml-quantized: it is dequantized first).</param>
    /// <param name="outputPath">Where the quantized copy goes.</param>
    /// <param name="method">How the codes are chosen.</param>
    /// <param name="calibration">Token sequences (each starting with BOS); required for GPTQ and AWQ.</param>
    public static List<string> Quantize<TScheme>(GgufFile input, string outputPath, QuantizeMethod method = QuantizeMethod.Rtn, IReadOnlyList<IReadOnlyList<int>>? calibration = null)
        where TScheme : struct, IQuantScheme
    {
        CheckInput(input, method, calibration);
        var (matrices, folded, awqScales) = WholeModel<TScheme>(GgufLlama.LoadWeights(input), method, calibration, _ => true);
        var writer = GgufWriter.From(input);
        var quantized = new List<string>();
        foreach (var tensor in input.Tensors)
        {
            if (ProjectionName().IsMatch(tensor.Name) && matrices.TryGetValue(tensor.Name[..^".weight".Length], out var matrix))
            {
                GgufSchemeTensors.Write(writer, tensor.Name, matrix);
                quantized.Add(tensor.Name);
            }
            else if (folded is not null)
            {
                RewriteFolded(writer, input, folded, tensor);
            }
        }

        GgufSchemeTensors.SetScheme(writer, TScheme.Info);
        WriteAwqScales(writer, awqScales);
        writer.Save(outputPath);
        return quantized;
    }

    /// <summary>AWQ's input scales as metadata, so that evaluation can compare each projection with its folded float
    /// version (<see cref="ReadAwqScales"/>).</summary>
    private static void WriteAwqScales(GgufWriter writer, AwqScales? awqScales)
    {
        if (awqScales is null)
        {
            return;
        }

        for (int l = 0; l < awqScales.Attention.Length; l++)
        {
            foreach (var (kind, s) in new[] { ("attn", awqScales.Attention[l]), ("attn_output", awqScales.AttentionOutput[l]), ("ffn", awqScales.Ffn[l]), ("ffn_down", awqScales.FfnDown[l]) })
            {
                if (s is not null)
                {
                    writer.Set(AwqKey(l, kind), GgufValueType.Array, s.Select(v => (object)v).ToArray(), GgufValueType.Float32);
                }
            }
        }
    }
}
