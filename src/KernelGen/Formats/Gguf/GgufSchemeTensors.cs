using System;
using System.Globalization;
using System.Runtime.InteropServices;
using KernelGen.Quantization;

namespace KernelGen.Formats.Gguf;

/// <summary>
/// KernelGen's own GGUF tensors: projections quantized with a generated scheme (bits 2–8, any group, symmetric or
/// asymmetric) stored in that scheme's layout, so that <c>run</c> and <c>eval</c> load exactly what <c>quantize</c>
/// wrote, without quantizing again. llama.cpp has no such types and cannot load these tensors.
/// <para>
/// A file holds one scheme, recorded in the metadata: <c>kernelgen.scheme</c> (its name), <c>kernelgen.scheme.bits</c>,
/// <c>kernelgen.scheme.group_size</c> (0 = per channel) and <c>kernelgen.scheme.symmetric</c>. A quantized projection
/// NAME (e.g. <c>blk.0.attn_q.weight</c>, N rows of K weights) is three tensors:
/// </para>
/// <list type="bullet">
/// <item><c>NAME</c>: I32 [K'·b/32, N], the packed codes, row by row; K' is K padded with zero weights to whole groups
/// (<see cref="QuantDims.PaddedCols"/>); in each 32-code chunk of a row, code j starts at bit j·b of the
/// chunk's b little-endian words (3-, 5- and 6-bit codes straddle words).</item>
/// <item><c>NAME.scales</c>: F16 [groups, N], one scale per (row, group), row-major.</item>
/// <item><c>NAME.zeros</c> (asymmetric schemes only): I32 [words], the zero codes as one b-bit stream over row-major
/// [N, groups], packed as the codes are.</item>
/// </list>
/// <para>A weight is scale · (code − zero), the zero of a symmetric scheme being 2^(b−1).</para>
/// </summary>
public static class GgufSchemeTensors
{
    /// <summary>Metadata key of the scheme's name.</summary>
    public const string SchemeKey = "kernelgen.scheme";

    /// <summary>Suffix of a projection's scale tensor.</summary>
    public const string ScalesSuffix = ".scales";

    /// <summary>Suffix of a projection's zero-point tensor.</summary>
    public const string ZerosSuffix = ".zeros";

    /// <summary>Records <paramref name="scheme"/> as the file's scheme.</summary>
    public static void SetScheme(GgufWriter writer, QuantSchemeInfo scheme)
    {
        ArgumentNullException.ThrowIfNull(writer);
        ArgumentNullException.ThrowIfNull(scheme);
        writer.Set(SchemeKey, GgufValueType.String, scheme.Name);
        writer.Set(SchemeKey + ".bits", GgufValueType.UInt32, (uint)scheme.Bits);
        writer.Set(SchemeKey + ".group_size", GgufValueType.UInt32, (uint)(scheme.IsPerChannel ? 0 : scheme.GroupSize));
        writer.Set(SchemeKey + ".symmetric", GgufValueType.Bool, scheme.Symmetric);
    }

    /// <summary>The scheme a file's projections are stored in, or null for an ordinary GGUF.</summary>
    /// <exception cref="ModelFormatException">The scheme's metadata is incomplete or out of range.</exception>
    public static QuantSchemeInfo? ReadScheme(GgufFile file)
    {
        ArgumentNullException.ThrowIfNull(file);
        if (!file.Metadata.ContainsKey(SchemeKey))
        {
            return null;
        }

        string name = file.Get(SchemeKey, string.Empty);
        int bits = file.Require<int>(SchemeKey + ".bits");
        int group = file.Require<int>(SchemeKey + ".group_size");
        bool symmetric = file.Require<bool>(SchemeKey + ".symmetric");
        if (bits is < 2 or > 8 || bits == 7)
        {
            throw new ModelFormatException(file.Path, SchemeKey + ".bits", 0, $"{bits} bits is not a scheme width (2, 3, 4, 5, 6 or 8)");
        }

        if (group is not (0 or 32 or 64 or 128 or 256))
        {
            throw new ModelFormatException(file.Path, SchemeKey + ".group_size", 0, $"{group} is not a group size (32, 64, 128, 256, or 0 for per channel)");
        }

        return new QuantSchemeInfo(name, bits, group == 0 ? QuantSchemeAttribute.PerChannel : group, symmetric);
    }

    /// <summary>Replaces tensor <paramref name="name"/> (already in the writer) with <paramref name="matrix"/> in its
    /// scheme's layout and adds its scales (and zero points).</summary>
    public static void Write<TScheme>(GgufWriter writer, string name, QuantizedMatrix<TScheme> matrix)
        where TScheme : struct, IQuantScheme
    {
        ArgumentNullException.ThrowIfNull(writer);
        ArgumentNullException.ThrowIfNull(matrix);
        var dims = matrix.Dims;
        writer.ReplaceTensor(name, GgmlType.I32, new long[] { dims.ChunksPerRow * (long)dims.Bits, dims.Rows }, MemoryMarshal.AsBytes(matrix.Packed.AsSpan()).ToArray());
        writer.AddTensor(name + ScalesSuffix, GgmlType.F16, new long[] { dims.GroupsPerRow, dims.Rows }, MemoryMarshal.AsBytes(matrix.Scales.AsSpan()).ToArray());
        if (!TScheme.Info.Symmetric)
        {
            writer.AddTensor(name + ZerosSuffix, GgmlType.I32, new long[] { matrix.Zeros.Length }, MemoryMarshal.AsBytes(matrix.Zeros.AsSpan()).ToArray());
        }
    }

    /// <summary>Whether tensor <paramref name="name"/> of <paramref name="file"/> is stored in the file's scheme.</summary>
    public static bool Holds(GgufFile file, string name)
    {
        ArgumentNullException.ThrowIfNull(file);
        return file.Metadata.ContainsKey(SchemeKey) && file.TryGetTensor(name, out var tensor) && tensor.Type == GgmlType.I32
            && file.TryGetTensor(name + ScalesSuffix, out _);
    }

    /// <summary>Projection <paramref name="name"/> as stored: its packed codes, scales and zero points, K padded.</summary>
    /// <exception cref="ModelFormatException">The file's scheme is not <typeparamref name="TScheme"/>, or a tensor's
    /// type or shape does not fit a [<paramref name="rows"/> × <paramref name="cols"/>] projection.</exception>
    public static QuantizedMatrix<TScheme> Read<TScheme>(GgufFile file, string name, int rows, int cols)
        where TScheme : struct, IQuantScheme
    {
        var scheme = ReadScheme(file) ?? throw new ModelFormatException(file.Path, SchemeKey, 0, "the file holds no KernelGen scheme tensors");
        var expected = TScheme.Info;
        if (scheme.Bits != expected.Bits || scheme.GroupSize != expected.GroupSize || scheme.Symmetric != expected.Symmetric)
        {
            throw new ModelFormatException(file.Path, SchemeKey, 0, $"the file's scheme {scheme} is not {expected}");
        }

        var (packed, scales, zeros) = Parts(file, scheme, name, rows, cols);
        return QuantizedMatrix<TScheme>.FromPacked(rows, QuantDims.PaddedCols(scheme, cols), packed, scales, zeros);
    }

    /// <summary>Projection <paramref name="name"/> dequantized to float32, row-major [<paramref name="rows"/> ×
    /// <paramref name="cols"/>] (the padding dropped), for any scheme the file records.</summary>
    /// <exception cref="ModelFormatException">A tensor's type or shape does not fit the projection.</exception>
    public static float[] Dequantize(GgufFile file, string name, int rows, int cols)
    {
        var scheme = ReadScheme(file) ?? throw new ModelFormatException(file.Path, SchemeKey, 0, "the file holds no KernelGen scheme tensors");
        var (packed, scales, zeros) = Parts(file, scheme, name, rows, cols);
        int b = scheme.Bits, padded = QuantDims.PaddedCols(scheme, cols);
        int group = scheme.IsPerChannel ? padded : scheme.GroupSize, groups = padded / group, wordsPerRow = padded / 32 * b;
        var output = new float[(long)rows * cols];
        for (int r = 0; r < rows; r++)
        {
            for (int k = 0; k < cols; k++)
            {
                int code = Code(packed, ((long)r * wordsPerRow * 32) + ((long)k * b), b);
                int g = k / group;
                int zero = scheme.Symmetric ? 1 << (b - 1) : Code(zeros, (((long)r * groups) + g) * b, b);
                float scale = (float)BitConverter.UInt16BitsToHalf(scales[((long)r * groups) + g]);
                output[((long)r * cols) + k] = scale * (code - zero);
            }
        }

        return output;
    }

    /// <summary>The b-bit code starting at bit <paramref name="bit"/> of a little-endian word stream.</summary>
    private static int Code(uint[] words, long bit, int b)
    {
        long word = bit >> 5;
        int shift = (int)(bit & 31);
        ulong value = words[word] >> shift;
        if (shift + b > 32)
        {
            value |= (ulong)words[word + 1] << (32 - shift);
        }

        return (int)(value & ((1u << b) - 1));
    }

    private static (uint[] Packed, ushort[] Scales, uint[] Zeros) Parts(GgufFile file, QuantSchemeInfo scheme, string name, int rows, int cols)
    {
        int padded = QuantDims.PaddedCols(scheme, cols);
        QuantDims dims;
        try
        {
            dims = QuantDims.Create(scheme, rows, padded);
        }
        catch (ArgumentException e)
        {
            // The shape comes from the file's hyper-parameters: a bad one is the file's fault.
            throw new ModelFormatException(file.Path, name, 0, string.Create(CultureInfo.InvariantCulture, $"a [{rows} × {cols}] {scheme} projection is impossible: {e.Message}"));
        }

        var codes = Expect(file, name, GgmlType.I32, new long[] { dims.ChunksPerRow * (long)dims.Bits, rows }, scheme, cols);
        var scales = Expect(file, name + ScalesSuffix, GgmlType.F16, new long[] { dims.GroupsPerRow, rows }, scheme, cols);
        var packed = MemoryMarshal.Cast<byte, uint>(file.Bytes(codes)).ToArray(); // GGUF is little-endian, as is every .NET target here
        var scaleBits = MemoryMarshal.Cast<byte, ushort>(file.Bytes(scales)).ToArray();

        var zeros = Array.Empty<uint>();
        if (!scheme.Symmetric)
        {
            var zeroTensor = Expect(file, name + ZerosSuffix, GgmlType.I32, new long[] { dims.ZeroWords }, scheme, cols);
            zeros = MemoryMarshal.Cast<byte, uint>(file.Bytes(zeroTensor)).ToArray();
        }

        return (packed, scaleBits, zeros);
    }

    private static GgufTensorInfo Expect(GgufFile file, string name, GgmlType type, long[] shape, QuantSchemeInfo scheme, int cols)
    {
        if (!file.TryGetTensor(name, out var tensor))
        {
            throw new ModelFormatException(file.Path, name, 0, $"missing: a {scheme} projection needs it");
        }

        if (tensor.Type != type || tensor.Dimensions.Length != shape.Length || !tensor.Dimensions.AsSpan().SequenceEqual(shape))
        {
            throw new ModelFormatException(file.Path, name, file.DataStart + tensor.Offset, string.Create(CultureInfo.InvariantCulture,
                $"{tensor.Type} {tensor.Shape} is not the {type} [{string.Join(", ", shape)}] that a {scheme} projection of K = {cols} needs"));
        }

        return tensor;
    }
}
