using System;
using System.Buffers.Binary;

namespace KernelGen.Formats.Gguf;

/// <summary>
/// ggml's reference dequantization (ggml-quants.c <c>dequantize_row_*</c>) for the block types this reader decodes.
/// Block i holds elements [32i, 32i + 32); within Q4 blocks, element j (j &lt; 16) is the low nibble of byte j and
/// element j + 16 its high nibble.
/// </summary>
public static class GgmlDequantize
{
    /// <summary>Dequantizes <paramref name="source"/> (whole blocks) into <paramref name="destination"/>.</summary>
    public static void Row(GgmlType type, ReadOnlySpan<byte> source, Span<float> destination)
    {
        switch (type)
        {
            case GgmlType.F32:
                for (int i = 0; i < destination.Length; i++)
                {
                    destination[i] = BinaryPrimitives.ReadSingleLittleEndian(source[(4 * i)..]);
                }

                return;
            case GgmlType.F16:
                for (int i = 0; i < destination.Length; i++)
                {
                    destination[i] = (float)BinaryPrimitives.ReadHalfLittleEndian(source[(2 * i)..]);
                }

                return;
            case GgmlType.Q8_0:
                for (int ib = 0; ib < destination.Length / 32; ib++)
                {
                    var block = source.Slice(ib * 34, 34);
                    float d = (float)BinaryPrimitives.ReadHalfLittleEndian(block);
                    for (int j = 0; j < 32; j++)
                    {
                        destination[(ib * 32) + j] = d * (sbyte)block[2 + j];
                    }
                }

                return;
            case GgmlType.Q4_0:
                for (int ib = 0; ib < destination.Length / 32; ib++)
                {
                    var block = source.Slice(ib * 18, 18);
                    float d = (float)BinaryPrimitives.ReadHalfLittleEndian(block);
                    for (int j = 0; j < 16; j++)
                    {
                        destination[(ib * 32) + j] = d * ((block[2 + j] & 0x0F) - 8);
                        destination[(ib * 32) + j + 16] = d * ((block[2 + j] >> 4) - 8);
                    }
                }

                return;
            case GgmlType.Q4_1:
                for (int ib = 0; ib < destination.Length / 32; ib++)
                {
                    var block = source.Slice(ib * 20, 20);
                    float d = (float)BinaryPrimitives.ReadHalfLittleEndian(block);
                    float m = (float)BinaryPrimitives.ReadHalfLittleEndian(block[2..]);
                    for (int j = 0; j < 16; j++)
                    {
                        destination[(ib * 32) + j] = ((block[4 + j] & 0x0F) * d) + m;
                        destination[(ib * 32) + j + 16] = ((block[4 + j] >> 4) * d) + m;
                    }
                }

                return;
            default:
                throw new NotSupportedException($"ggml type {type} is not decoded yet (F32, F16, Q4_0, Q4_1 and Q8_0 are): convert the model with llama.cpp's llama-quantize to one of those.");
        }
    }
}
