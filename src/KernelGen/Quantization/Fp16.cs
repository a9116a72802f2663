using System;
using ILGPU;

namespace KernelGen.Quantization;

/// <summary>
/// IEEE binary16 scales as raw ushort bits. <see cref="ToFloat"/> compiles inside ILGPU kernels (integer ops only),
/// so every backend reads the same stored bits, including OpenCL devices without half support.
/// </summary>
public static class Fp16
{
    /// <summary>Largest finite binary16 value.</summary>
    public const double MaxValue = 65504.0;

    /// <summary>Converts binary16 bits to float exactly (finite values; scales are never Inf or NaN).</summary>
    public static float ToFloat(ushort bits)
    {
        int h = bits;
        int sign = (h & 0x8000) << 16;
        int exponent = (h >> 10) & 0x1F;
        int mantissa = h & 0x3FF;
        if (exponent == 0)
        {
            // Zero or subnormal: mantissa · 2^-24, exact in float.
            float magnitude = (float)mantissa * 5.9604644775390625E-8f;
            return sign != 0 ? -magnitude : magnitude;
        }

        // Normal: rebias the exponent from 15 to 127 and widen the mantissa from 10 to 23 bits.
        return Interop.IntAsFloat((uint)(sign | ((exponent + 112) << 23) | (mantissa << 13)));
    }

    /// <summary>The binary16 bits' value as a double.</summary>
    public static double ToDouble(ushort bits) => ToFloat(bits);

    /// <summary>
    /// The smallest binary16 value ≥ <paramref name="value"/> (a non-negative scale), as bits. Rounding up keeps the
    /// whole group inside the grid, so quantization never clips.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">The scale exceeds 65504, the largest binary16.</exception>
    public static ushort RoundUp(double value, int row, int group)
    {
        if (!(value >= 0) || value > MaxValue)
        {
            throw new ArgumentOutOfRangeException(nameof(value), value, FormattableString.Invariant(
                $"The scale of row {row}, group {group} is {value:G6}, beyond the largest fp16 (65504): the weights are too large to quantize with fp16 scales; divide them by a constant first and multiply the layer's output back."));
        }

        var half = (System.Half)value;
        if ((double)half < value)
        {
            half = BitConverter.UInt16BitsToHalf((ushort)(BitConverter.HalfToUInt16Bits(half) + 1));
        }

        return BitConverter.HalfToUInt16Bits(half);
    }
}
