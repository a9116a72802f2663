using System;
using System.Buffers.Binary;

namespace KernelGen.Formats.Gguf;

/// <summary>
/// ggml's reference dequantization (ggml-quants.c <c>dequantize_row_*</c>) for the block types this reader decodes:
/// F32, F16, Q8_0, Q4_0, Q4_1, and the k-quants Q4_K and Q6_K (super-blocks of 256).
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
            case GgmlType.Q4_K:
                for (int ib = 0; ib < destination.Length / 256; ib++)
                {
                    Q4K(source.Slice(ib * 144, 144), destination.Slice(ib * 256, 256));
                }

                return;
            case GgmlType.Q6_K:
                for (int ib = 0; ib < destination.Length / 256; ib++)
                {
                    Q6K(source.Slice(ib * 210, 210), destination.Slice(ib * 256, 256));
                }

                return;
            case GgmlType.I32:
                throw new NotSupportedException("An I32 tensor holds integers (in KernelGen files, a scheme's packed codes), not float weights: read it with GgufSchemeTensors.");
            default:
                throw new NotSupportedException($"ggml type {type} is not decoded yet (F32, F16, Q4_0, Q4_1, Q8_0, Q4_K and Q6_K are): convert the model with llama.cpp's llama-quantize to one of those.");
        }
    }

    /// <summary>
    /// One Q4_K super-block (144 bytes): fp16 d, fp16 dmin, 12 bytes packing eight 6-bit (scale, min) pairs, 128 bytes
    /// of nibbles. Sub-block j (32 elements) is d·sc_j·q − dmin·m_j; within each 64 elements, the first 32 are the
    /// low nibbles of 32 bytes and the next 32 their high nibbles.
    /// </summary>
    private static void Q4K(ReadOnlySpan<byte> block, Span<float> y)
    {
        float d = (float)BinaryPrimitives.ReadHalfLittleEndian(block);
        float min = (float)BinaryPrimitives.ReadHalfLittleEndian(block[2..]);
        var scales = block.Slice(4, 12);
        var q = block.Slice(16, 128);
        for (int j = 0; j < 4; j++)
        {
            var (sc1, m1) = ScaleMinK4((2 * j) + 0, scales);
            var (sc2, m2) = ScaleMinK4((2 * j) + 1, scales);
            float d1 = d * sc1, mm1 = min * m1, d2 = d * sc2, mm2 = min * m2;
            var bytes = q.Slice(32 * j, 32);
            for (int l = 0; l < 32; l++)
            {
                y[(64 * j) + l] = (d1 * (bytes[l] & 0xF)) - mm1;
                y[(64 * j) + 32 + l] = (d2 * (bytes[l] >> 4)) - mm2;
            }
        }
    }

    /// <summary>ggml's get_scale_min_k4: sub-blocks 0–3 keep 6 bits in bytes j and j+4; 4–7 take 4 low bits from
    /// byte j+4 and their top 2 bits from the spare high bits of bytes j−4 (scale) and j (min).</summary>
    private static (int Scale, int Min) ScaleMinK4(int j, ReadOnlySpan<byte> q)
        => j < 4
            ? (q[j] & 63, q[j + 4] & 63)
            : ((q[j + 4] & 0xF) | ((q[j - 4] >> 6) << 4), (q[j + 4] >> 4) | ((q[j] >> 6) << 4));

    /// <summary>
    /// One Q6_K super-block (210 bytes): 128 bytes of low nibbles (ql), 64 bytes of 2-bit high parts (qh), 16 int8
    /// sub-block scales, fp16 d. Element e is d·scales[e/16]·(q − 32). Per 128 elements: ql[l] holds elements l and
    /// l+64 (low, high nibble), ql[l+32] elements l+32 and l+96, and qh[l] the top two bits of all four.
    /// </summary>
    private static void Q6K(ReadOnlySpan<byte> block, Span<float> y)
    {
        float d = (float)BinaryPrimitives.ReadHalfLittleEndian(block[208..]);
        for (int n = 0; n < 2; n++)
        {
            var ql = block.Slice(64 * n, 64);
            var qh = block.Slice(128 + (32 * n), 32);
            var sc = block.Slice(192 + (8 * n), 8);
            var outHalf = y.Slice(128 * n, 128);
            for (int l = 0; l < 32; l++)
            {
                int s = l / 16;
                int q1 = ((ql[l] & 0xF) | (((qh[l] >> 0) & 3) << 4)) - 32;
                int q2 = ((ql[l + 32] & 0xF) | (((qh[l] >> 2) & 3) << 4)) - 32;
                int q3 = ((ql[l] >> 4) | (((qh[l] >> 4) & 3) << 4)) - 32;
                int q4 = ((ql[l + 32] >> 4) | (((qh[l] >> 6) & 3) << 4)) - 32;
                outHalf[l] = d * (sbyte)sc[s] * q1;
                outHalf[l + 32] = d * (sbyte)sc[s + 2] * q2;
                outHalf[l + 64] = d * (sbyte)sc[s + 4] * q3;
                outHalf[l + 96] = d * (sbyte)sc[s + 6] * q4;
            }
        }
    }
}
