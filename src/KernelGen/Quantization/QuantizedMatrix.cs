using System;

namespace KernelGen.Quantization;

/// <summary>
/// A rows × cols weight matrix (row r holds output r's K input weights) quantized with <typeparamref name="TScheme"/>:
/// packed codes, fp16 scales and, for asymmetric schemes, packed zero points. Layout: the scheme's docs.
/// </summary>
public sealed class QuantizedMatrix<TScheme>
    where TScheme : struct, IQuantScheme
{
    private QuantizedMatrix(QuantDims dims, uint[] packed, ushort[] scales, uint[] zeros)
    {
        Dims = dims;
        Packed = packed;
        Scales = scales;
        Zeros = zeros;
    }

    /// <summary>The scheme's parameters.</summary>
    public static QuantSchemeInfo Scheme => TScheme.Info;

    /// <summary>Sizes of the packed matrix.</summary>
    public QuantDims Dims { get; }

    /// <summary>Output rows (N).</summary>
    public int Rows => Dims.Rows;

    /// <summary>Input columns (K).</summary>
    public int Cols => Dims.Cols;

    /// <summary>Packed codes: rows · cols/32 · bits words.</summary>
    public uint[] Packed { get; }

    /// <summary>IEEE binary16 scale bits, row-major [rows, groups]: index row · groups + group.</summary>
    public ushort[] Scales { get; }

    /// <summary>Packed zero points (empty for symmetric schemes).</summary>
    public uint[] Zeros { get; }

    /// <summary>Bytes stored: packed codes, scales and zero points.</summary>
    public long ByteCount => (Packed.LongLength * 4) + (Scales.LongLength * 2) + (Zeros.LongLength * 4);

    /// <summary>Stored bits per weight, counting scales and zero points.</summary>
    public double BitsPerWeight => ByteCount * 8.0 / ((double)Rows * Cols);

    /// <summary>Quantizes row-major <paramref name="weights"/> (rows × cols) with round-to-nearest.</summary>
    /// <exception cref="ArgumentException">Wrong length, unsupported shape, or a NaN/infinite weight.</exception>
    public static QuantizedMatrix<TScheme> Quantize(ReadOnlySpan<float> weights, int rows, int cols)
    {
        var dims = QuantDims.Create(TScheme.Info, rows, cols);
        if (weights.Length != (long)rows * cols)
        {
            throw new ArgumentException(FormattableString.Invariant(
                $"weights has {weights.Length} values but a {rows} × {cols} matrix needs {(long)rows * cols}."), nameof(weights));
        }

        for (int i = 0; i < weights.Length; i++)
        {
            if (!float.IsFinite(weights[i]))
            {
                throw new ArgumentException(FormattableString.Invariant(
                    $"weights[{i}] (row {i / cols}, col {i % cols}) is {weights[i]}: only finite weights can be quantized."), nameof(weights));
            }
        }

        var packed = new uint[dims.PackedWords];
        var scales = new ushort[dims.ScaleCount];
        var zeros = TScheme.Info.Symmetric ? Array.Empty<uint>() : new uint[dims.ZeroWords];
        TScheme.QuantizeInto(weights, dims, packed, scales, zeros);
        return new QuantizedMatrix<TScheme>(dims, packed, scales, zeros);
    }

    /// <summary>Wraps existing packed data (e.g. read from a file) after checking every buffer's length.</summary>
    public static QuantizedMatrix<TScheme> FromPacked(int rows, int cols, uint[] packed, ushort[] scales, uint[] zeros)
    {
        ArgumentNullException.ThrowIfNull(packed);
        ArgumentNullException.ThrowIfNull(scales);
        ArgumentNullException.ThrowIfNull(zeros);
        var dims = QuantDims.Create(TScheme.Info, rows, cols);
        long zeroWords = TScheme.Info.Symmetric ? 0 : dims.ZeroWords;
        if (packed.LongLength != dims.PackedWords || scales.LongLength != dims.ScaleCount || zeros.LongLength != zeroWords)
        {
            throw new ArgumentException(FormattableString.Invariant(
                $"{TScheme.Info.Name} {rows} × {cols} needs {dims.PackedWords} packed words, {dims.ScaleCount} scales and {zeroWords} zero words; got {packed.LongLength}, {scales.LongLength} and {zeros.LongLength}."));
        }

        return new QuantizedMatrix<TScheme>(dims, packed, scales, zeros);
    }

    /// <summary>
    /// Packs explicit codes (rows × cols, each ≤ 2^bits − 1), scale bits (rows × groups) and, for asymmetric schemes,
    /// zero codes (rows × groups) into a matrix: for quantizers such as GPTQ that choose codes themselves.
    /// </summary>
    public static QuantizedMatrix<TScheme> FromCodes(int rows, int cols, ReadOnlySpan<byte> codes, ReadOnlySpan<ushort> scales, ReadOnlySpan<byte> zeroCodes)
    {
        var dims = QuantDims.Create(TScheme.Info, rows, cols);
        int maxCode = (1 << dims.Bits) - 1;
        long groupCount = (long)rows * dims.GroupsPerRow;
        if (codes.Length != (long)rows * cols || scales.Length != groupCount || zeroCodes.Length != (TScheme.Info.Symmetric ? 0 : groupCount))
        {
            throw new ArgumentException(FormattableString.Invariant(
                $"{TScheme.Info.Name} {rows} × {cols} needs {(long)rows * cols} codes, {groupCount} scales and {(TScheme.Info.Symmetric ? 0 : groupCount)} zero codes; got {codes.Length}, {scales.Length} and {zeroCodes.Length}."));
        }

        var packed = new uint[dims.PackedWords];
        for (long chunk = 0; chunk < (long)rows * dims.ChunksPerRow; chunk++)
        {
            var slice = codes.Slice((int)(chunk * QuantDims.ChunkSize), QuantDims.ChunkSize);
            foreach (byte code in slice)
            {
                if (code > maxCode)
                {
                    throw new ArgumentException($"Code {code} exceeds {maxCode}, the largest {dims.Bits}-bit code.", nameof(codes));
                }
            }

            TScheme.PackChunk(slice, packed.AsSpan((int)(chunk * dims.Bits), dims.Bits));
        }

        return new QuantizedMatrix<TScheme>(dims, packed, scales.ToArray(), TScheme.Info.Symmetric ? Array.Empty<uint>() : PackZeros(zeroCodes, dims));
    }

    /// <summary>Zero codes (rows × groups, in order) packed 32 to a chunk, the last chunk padded with zeros.</summary>
    private static uint[] PackZeros(ReadOnlySpan<byte> zeroCodes, QuantDims dims)
    {
        var zeros = new uint[dims.ZeroWords];
        var padded = new byte[dims.ZeroWords / dims.Bits * QuantDims.ChunkSize];
        zeroCodes.CopyTo(padded);
        for (int block = 0; block < padded.Length / QuantDims.ChunkSize; block++)
        {
            TScheme.PackChunk(padded.AsSpan(block * QuantDims.ChunkSize, QuantDims.ChunkSize), zeros.AsSpan(block * dims.Bits, dims.Bits));
        }

        return zeros;
    }

    /// <summary>
    /// The rows of <paramref name="parts"/> one after another: one matrix for projections that read the same input
    /// (q, k and v; gate and up), so that one launch computes them all. Codes, scales and zero points are copied
    /// exactly; zero points are re-packed, since a part's zero-point stream may end inside a 32-code chunk.
    /// </summary>
    /// <exception cref="ArgumentException">No parts, parts of different column counts, or more rows than an int holds.</exception>
    public static QuantizedMatrix<TScheme> ConcatRows(params QuantizedMatrix<TScheme>[] parts)
    {
        ArgumentNullException.ThrowIfNull(parts);
        if (parts.Length == 0)
        {
            throw new ArgumentException("ConcatRows needs at least one matrix.", nameof(parts));
        }

        long rows = 0;
        for (int i = 0; i < parts.Length; i++)
        {
            ArgumentNullException.ThrowIfNull(parts[i], $"{nameof(parts)}[{i}]");
            if (parts[i].Cols != parts[0].Cols)
            {
                throw new ArgumentException(FormattableString.Invariant(
                    $"parts[{i}] has {parts[i].Cols} columns but parts[0] has {parts[0].Cols}: only matrices that read the same input stack by rows."), nameof(parts));
            }

            rows += parts[i].Rows;
        }

        if (rows > int.MaxValue)
        {
            throw new ArgumentException(FormattableString.Invariant($"{rows} rows in all exceed {int.MaxValue}."), nameof(parts));
        }

        var dims = QuantDims.Create(TScheme.Info, (int)rows, parts[0].Cols);
        var packed = new uint[dims.PackedWords];
        var scales = new ushort[dims.ScaleCount];
        long packedAt = 0, scalesAt = 0;
        foreach (var part in parts)
        {
            Array.Copy(part.Packed, 0, packed, packedAt, part.Packed.LongLength);
            Array.Copy(part.Scales, 0, scales, scalesAt, part.Scales.LongLength);
            packedAt += part.Packed.LongLength;
            scalesAt += part.Scales.LongLength;
        }

        if (TScheme.Info.Symmetric)
        {
            return new QuantizedMatrix<TScheme>(dims, packed, scales, Array.Empty<uint>());
        }

        int bits = dims.Bits, chunk = QuantDims.ChunkSize;
        var zeroCodes = new byte[rows * dims.GroupsPerRow];
        Span<byte> codes = stackalloc byte[chunk];
        long zerosAt = 0;
        foreach (var part in parts)
        {
            long count = (long)part.Rows * part.Dims.GroupsPerRow;
            for (long block = 0; block * chunk < count; block++)
            {
                TScheme.UnpackChunk(part.Zeros.AsSpan((int)(block * bits), bits), codes);
                codes[..(int)Math.Min(chunk, count - (block * chunk))].CopyTo(zeroCodes.AsSpan((int)(zerosAt + (block * chunk))));
            }

            zerosAt += count;
        }

        return new QuantizedMatrix<TScheme>(dims, packed, scales, PackZeros(zeroCodes, dims));
    }

    /// <summary>The reference dequantization, row-major rows × cols.</summary>
    public float[] Dequantize()
    {
        var output = new float[(long)Rows * Cols];
        TScheme.DequantizeInto(Packed, Scales, Zeros, Dims, output);
        return output;
    }

    /// <summary>The scale of (row, group) as a float.</summary>
    public float GetScale(int row, int group) => Fp16.ToFloat(Scales[(row * Dims.GroupsPerRow) + group]);

    /// <summary>The code of weight (row, col).</summary>
    public int GetCode(int row, int col)
    {
        Span<byte> codes = stackalloc byte[QuantDims.ChunkSize];
        int chunk = col / QuantDims.ChunkSize;
        TScheme.UnpackChunk(Packed.AsSpan(((row * Dims.ChunksPerRow) + chunk) * Dims.Bits, Dims.Bits), codes);
        return codes[col % QuantDims.ChunkSize];
    }

    /// <summary>The zero point of (row, group): the stored code, or 2^(bits−1) for symmetric schemes.</summary>
    public int GetZero(int row, int group)
    {
        if (TScheme.Info.Symmetric)
        {
            return 1 << (Dims.Bits - 1);
        }

        Span<byte> codes = stackalloc byte[QuantDims.ChunkSize];
        int index = (row * Dims.GroupsPerRow) + group;
        TScheme.UnpackChunk(Zeros.AsSpan(index / QuantDims.ChunkSize * Dims.Bits, Dims.Bits), codes);
        return codes[index % QuantDims.ChunkSize];
    }
}
