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

    /// <summary>
    /// float → binary16 bits, rounded to nearest, ties to even (IEEE's default, as CUDA's <c>cvt.rn.f16.f32</c>), with
    /// integer operations only so it compiles inside kernels on every backend. ILGPU's own <c>(Half)</c> conversion
    /// on the CPU accelerator truncates instead (measured: it differs from <see cref="System.Half"/> on half of random
    /// values), which would make the CPU and CUDA paths disagree.
    /// </summary>
    public static ushort FromFloat(float value)
    {
        uint f = Interop.FloatAsInt(value);
        uint sign = (f >> 16) & 0x8000u;
        uint magnitude = f & 0x7FFFFFFFu;
        if (magnitude > 0x7F800000u)
        {
            return (ushort)(sign | 0x7E00u); // NaN
        }

        int h = (int)(magnitude >> 23) - 112; // binary16 biased exponent
        uint mantissa = magnitude & 0x7FFFFFu;
        if (h >= 31)
        {
            return (ushort)(sign | 0x7C00u); // overflow or infinity
        }

        uint q;
        uint remainder;
        uint halfway;
        if (h <= 0)
        {
            // Subnormal binary16: the value in units of 2^-24 is (1.m · 2^23) >> (14 − h).
            int shift = 14 - h;
            if (shift > 24)
            {
                return (ushort)sign;
            }

            uint full = mantissa | 0x800000u;
            q = full >> shift;
            remainder = full & ((1u << shift) - 1);
            halfway = 1u << (shift - 1);
        }
        else
        {
            q = ((uint)h << 10) | (mantissa >> 13);
            remainder = mantissa & 0x1FFFu;
            halfway = 0x1000u;
        }

        if (remainder > halfway || (remainder == halfway && (q & 1) != 0))
        {
            q++; // may carry into the exponent, which is the right encoding (up to infinity)
        }

        return (ushort)(sign | q);
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
