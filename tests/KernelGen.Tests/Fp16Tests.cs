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
}
