using System;
using System.Buffers.Binary;
using KernelGen.Quantization;

namespace KernelGen.Formats.Gguf;

/// <summary>ggml's Q8_0 as a generated scheme: blocks of 32, fp16 d, x = d · q with q = code − 128 ∈ [−128, 127].</summary>
[QuantScheme(Bits = 8, GroupSize = 32, Symmetric = true, Name = "q8_0")]
public partial struct GgmlQ8_0;

/// <summary>ggml's Q4_0 as a generated scheme: blocks of 32, fp16 d, x = d · (q − 8) with q = code ∈ [0, 15].</summary>
[QuantScheme(Bits = 4, GroupSize = 32, Symmetric = true, Name = "q4_0")]
public partial struct GgmlQ4_0;

/// <summary>
/// Lossless conversion between ggml's Q8_0/Q4_0 blocks (row-major, each row cols/32 blocks) and the generated
/// schemes' packed layout: the fp16 d becomes the scale as is, and each q becomes a code, so the generated kernels
/// compute d · (q − 8) or d · q with the same single rounding as ggml's dequantize_row_q4_0/q8_0.
/// </summary>
public static class GgmlBlocks
{
    /// <summary>Q8_0 blocks of a rows × cols tensor as a matrix the generated kernels run.</summary>
    public static QuantizedMatrix<GgmlQ8_0> FromQ8_0(ReadOnlySpan<byte> blocks, int rows, int cols)
    {
        var (packed, scales) = Repack<GgmlQ8_0>(blocks, rows, cols, 34, static (block, codes) =>
        {
            for (int j = 0; j < 32; j++)
            {
                codes[j] = (byte)((sbyte)block[2 + j] + 128);
            }
        });
        return QuantizedMatrix<GgmlQ8_0>.FromPacked(rows, cols, packed, scales, Array.Empty<uint>());
    }

    /// <summary>Q4_0 blocks of a rows × cols tensor as a matrix the generated kernels run.</summary>
    public static QuantizedMatrix<GgmlQ4_0> FromQ4_0(ReadOnlySpan<byte> blocks, int rows, int cols)
    {
        var (packed, scales) = Repack<GgmlQ4_0>(blocks, rows, cols, 18, static (block, codes) =>
        {
            for (int j = 0; j < 16; j++)
            {
                codes[j] = (byte)(block[2 + j] & 0x0F);
                codes[j + 16] = (byte)(block[2 + j] >> 4);
            }
        });
        return QuantizedMatrix<GgmlQ4_0>.FromPacked(rows, cols, packed, scales, Array.Empty<uint>());
    }

    /// <summary>The matrix as Q8_0 blocks (what a GGUF file stores).</summary>
    public static byte[] ToQ8_0(QuantizedMatrix<GgmlQ8_0> matrix)
        => Blocks(matrix, 34, static (codes, block) =>
        {
            for (int j = 0; j < 32; j++)
            {
                block[2 + j] = unchecked((byte)(sbyte)(codes[j] - 128));
            }
        });

    /// <summary>The matrix as Q4_0 blocks.</summary>
    public static byte[] ToQ4_0(QuantizedMatrix<GgmlQ4_0> matrix)
        => Blocks(matrix, 18, static (codes, block) =>
        {
            for (int j = 0; j < 16; j++)
            {
                block[2 + j] = (byte)(codes[j] | (codes[j + 16] << 4));
            }
        });

    private delegate void BlockToCodes(ReadOnlySpan<byte> block, Span<byte> codes);

    private delegate void CodesToBlock(ReadOnlySpan<byte> codes, Span<byte> block);

    private static (uint[] Packed, ushort[] Scales) Repack<TScheme>(ReadOnlySpan<byte> blocks, int rows, int cols, int blockBytes, BlockToCodes decode)
        where TScheme : struct, IQuantScheme
    {
        var dims = QuantDims.Create(TScheme.Info, rows, cols);
        if (blocks.Length != (long)rows * (cols / 32) * blockBytes)
        {
            throw new ArgumentException($"{blocks.Length} bytes are not the {(long)rows * (cols / 32)} blocks of {blockBytes} bytes that a [{rows} × {cols}] {TScheme.Info.Name} tensor holds.", nameof(blocks));
        }

        var packed = new uint[dims.PackedWords];
        var scales = new ushort[dims.ScaleCount];
        Span<byte> codes = stackalloc byte[32];
        for (int b = 0; b < rows * (cols / 32); b++)
        {
            var block = blocks.Slice(b * blockBytes, blockBytes);
            scales[b] = BinaryPrimitives.ReadUInt16LittleEndian(block); // block b is (row, group) = (b / groups, b % groups): row-major, as our scales
            decode(block, codes);
            TScheme.PackChunk(codes, packed.AsSpan(b * dims.Bits, dims.Bits));
        }

        return (packed, scales);
    }

    private static byte[] Blocks<TScheme>(QuantizedMatrix<TScheme> matrix, int blockBytes, CodesToBlock encode)
        where TScheme : struct, IQuantScheme
    {
        ArgumentNullException.ThrowIfNull(matrix);
        int count = matrix.Rows * (matrix.Cols / 32);
        var output = new byte[(long)count * blockBytes];
        Span<byte> codes = stackalloc byte[32];
        for (int b = 0; b < count; b++)
        {
            var block = output.AsSpan(b * blockBytes, blockBytes);
            BinaryPrimitives.WriteUInt16LittleEndian(block, matrix.Scales[b]);
            TScheme.UnpackChunk(matrix.Packed.AsSpan(b * matrix.Dims.Bits, matrix.Dims.Bits), codes);
            encode(codes, block);
        }

        return output;
    }
}
