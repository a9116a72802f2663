using System;
using KernelGen.Quantization;
using Xunit;

namespace KernelGen.Tests;

/// <summary>KernelGen's kernel-safe fp16 conversion against System.Half, over every bit pattern.</summary>
public sealed class Fp16Tests
{
    [Fact]
    public void ToFloat_EqualsSystemHalf_ForEveryFiniteBitPattern()
    {
        for (int bits = 0; bits <= ushort.MaxValue; bits++)
        {
            var half = BitConverter.UInt16BitsToHalf((ushort)bits);
            if (!Half.IsFinite(half))
            {
                continue;
            }

            float expected = (float)half;
            float actual = Fp16.ToFloat((ushort)bits);
            Assert.True(BitConverter.SingleToInt32Bits(expected) == BitConverter.SingleToInt32Bits(actual), $"bits 0x{bits:X4}: {actual} != {expected}");
        }
    }

    [Fact]
    public void RoundUp_GivesTheSmallestHalfNotBelowTheValue()
    {
        var random = TestData.CreateRandom(nameof(RoundUp_GivesTheSmallestHalfNotBelowTheValue));
        for (int i = 0; i < 20000; i++)
        {
            double value = Math.Pow(2, (random.NextDouble() * 40) - 25); // subnormals to ~3e4
            ushort bits = Fp16.RoundUp(value, 0, 0);
            double up = Fp16.ToDouble(bits);
            Assert.True(up >= value, TestData.Describe($"{value} rounded up to {up}"));
            Assert.True(bits == 0 || Fp16.ToDouble((ushort)(bits - 1)) < value, TestData.Describe($"{value}: {up} is not the smallest"));
        }

        Assert.Equal(0, Fp16.RoundUp(0, 0, 0));
        Assert.Equal(65504.0, Fp16.ToDouble(Fp16.RoundUp(65504, 0, 0)));
        Assert.Throws<ArgumentOutOfRangeException>(() => Fp16.RoundUp(65504.5, 3, 7));
        Assert.Throws<ArgumentOutOfRangeException>(() => Fp16.RoundUp(double.NaN, 3, 7));
    }

    /// <summary>Round-to-nearest-even against System.Half: random floats across the whole binary16 range (subnormals,
    /// overflow), every exact tie between neighbouring halves, and the special values.</summary>
    [Fact]
    public void FromFloat_RoundsToNearestEven_AsSystemHalf()
    {
        var random = TestData.CreateRandom(nameof(FromFloat_RoundsToNearestEven_AsSystemHalf));
        for (int i = 0; i < 200000; i++)
        {
            float value = (float)((random.NextDouble() < 0.5 ? -1 : 1) * Math.Pow(2, (random.NextDouble() * 46) - 30));
            Assert.True(BitConverter.HalfToUInt16Bits((Half)value) == Fp16.FromFloat(value), TestData.Describe($"{value:R}"));
        }

        for (int bits = 0; bits < 0x7BFF; bits++)
        {
            // The midpoint between two neighbouring halves is exact in float: ties go to the even one.
            float tie = (float)((Fp16.ToDouble((ushort)bits) + Fp16.ToDouble((ushort)(bits + 1))) / 2);
            Assert.Equal(BitConverter.HalfToUInt16Bits((Half)tie), Fp16.FromFloat(tie));
            Assert.Equal(BitConverter.HalfToUInt16Bits((Half)(-tie)), Fp16.FromFloat(-tie));
        }

        foreach (float special in new[] { 0f, -0f, float.PositiveInfinity, float.NegativeInfinity, 65504f, 65520f, 1e-8f, float.Epsilon })
        {
            Assert.Equal(BitConverter.HalfToUInt16Bits((Half)special), Fp16.FromFloat(special));
        }

        Assert.True(Half.IsNaN(BitConverter.UInt16BitsToHalf(Fp16.FromFloat(float.NaN))));
    }

    /// <summary>The tensor-core decode's biases −(1024·2^−s + zero), built from bits, equal System.Half's conversion of
    /// the exact value in both halves, for every position s and zero point a code width uses (2-, 3-bit: s = 0…6, zero
    /// ≤ 7; 4-bit: s = 0, 4, zero ≤ 15; 8-bit: s = 0, zero ≤ 255).</summary>
    [Fact]
    public void DecodeBiases_AreTheHalvesOfMinus1024TimesPowerMinusZero()
    {
        foreach (var (bits, shifts) in new[] { (2, new[] { 0, 2, 4, 6 }), (3, new[] { 0, 2, 4, 6 }), (4, new[] { 0, 4 }), (8, new[] { 0 }) })
        {
            for (int zero = 0; zero < 1 << bits; zero++)
            {
                KernelGen.Backends.PairDecode.Biases(zero, out uint b0, out uint b2, out uint b4, out uint b6);
                foreach (int s in shifts)
                {
                    uint pair = s switch { 0 => b0, 2 => b2, 4 => b4, _ => b6 };
                    ushort expected = BitConverter.HalfToUInt16Bits((Half)(-((1024.0 / (1 << s)) + zero)));
                    Assert.Equal(expected, (ushort)pair);
                    Assert.Equal(expected, (ushort)(pair >> 16));
                }
            }
        }
    }
}
