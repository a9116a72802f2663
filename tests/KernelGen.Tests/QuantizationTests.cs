using System;
using System.Linq;
using KernelGen.Quantization;
using Xunit;

namespace KernelGen.Tests;

/// <summary>The generated reference code of every scheme against the documented math and layout.</summary>
public sealed class QuantizationTests
{
    private const int Rows = 37; // odd, and more than one 32-row block of zero points
    private const int Cols = 256; // two groups of 128, eight of 32, one per-channel group

    [Theory]
    [MemberData(nameof(SchemeMatrix.Names), MemberType = typeof(SchemeMatrix))]
    public void Quantize_StoresTheDocumentedScalesZerosAndCodes(string scheme) => SchemeMatrix.Invoke(this, nameof(CheckQuantize), scheme);

    [Theory]
    [MemberData(nameof(SchemeMatrix.Names), MemberType = typeof(SchemeMatrix))]
    public void Dequantize_ErrorIsAtMostHalfAScale(string scheme) => SchemeMatrix.Invoke(this, nameof(CheckErrorBound), scheme);

    [Theory]
    [MemberData(nameof(SchemeMatrix.Names), MemberType = typeof(SchemeMatrix))]
    public void PackChunk_RoundTripsAndFollowsTheBitLayout(string scheme) => SchemeMatrix.Invoke(this, nameof(CheckPacking), scheme);

    private void CheckQuantize<TScheme>()
        where TScheme : struct, IQuantScheme
    {
        var info = TScheme.Info;
        var random = TestData.CreateRandom(nameof(CheckQuantize) + info.Name);
        int group = info.IsPerChannel ? Cols : info.GroupSize;
        var w = TestData.Weights(random, Rows, Cols, group);
        var q = QuantizedMatrix<TScheme>.Quantize(w, Rows, Cols);
        int maxCode = (1 << info.Bits) - 1;
        int symZero = 1 << (info.Bits - 1);

        for (int row = 0; row < Rows; row++)
        {
            for (int g = 0; g < Cols / group; g++)
            {
                // The documented math, in float64.
                double lo = 0, hi = 0, absMax = 0;
                for (int k = g * group; k < (g + 1) * group; k++)
                {
                    double v = w[(row * Cols) + k];
                    lo = Math.Min(lo, v);
                    hi = Math.Max(hi, v);
                    absMax = Math.Max(absMax, Math.Abs(v));
                }

                double scale = info.Symmetric ? Reference.HalfUp(absMax / (symZero - 1)) : Reference.HalfUp((hi - lo) / maxCode);
                Assert.True(scale == Fp16.ToDouble(q.Scales[(row * (Cols / group)) + g]), TestData.Describe($"{info.Name}: scale of row {row} group {g} is {q.GetScale(row, g)}, expected {scale}"));

                int zero = info.Symmetric
                    ? symZero
                    : scale == 0 ? 0 : (int)Math.Clamp(Math.Round(-lo / scale, MidpointRounding.AwayFromZero), 0, maxCode);
                int storedZero = info.Symmetric ? symZero : Reference.Zero(q.Zeros, info.Bits, Cols / group, g, row);
                Assert.True(zero == storedZero, TestData.Describe($"{info.Name}: zero of row {row} group {g} is {storedZero}, expected {zero}"));

                int lowest = info.Symmetric ? 1 : 0;
                for (int k = g * group; k < (g + 1) * group; k++)
                {
                    double t = scale == 0 ? 0 : w[(row * Cols) + k] / scale;
                    int code = Reference.Code(q.Packed, info.Bits, Cols, row, k);
                    int expected = (int)Math.Clamp(Math.Round(t, MidpointRounding.AwayFromZero) + zero, lowest, maxCode);

                    // At an exact tie, float rounding of w / scale may fall either way; both codes are equally close.
                    bool nearTie = Math.Abs(Math.Abs(t - Math.Truncate(t)) - 0.5) < 1e-9;
                    Assert.True(code == expected || (nearTie && Math.Abs(code - expected) == 1),
                        TestData.Describe($"{info.Name}: code of ({row}, {k}) is {code}, expected {expected} (w = {w[(row * Cols) + k]}, scale = {scale}, zero = {zero})"));
                }
            }
        }
    }

    private void CheckErrorBound<TScheme>()
        where TScheme : struct, IQuantScheme
    {
        var info = TScheme.Info;
        var random = TestData.CreateRandom(nameof(CheckErrorBound) + info.Name);
        int group = info.IsPerChannel ? Cols : info.GroupSize;
        var w = TestData.Weights(random, Rows, Cols, group);
        var q = QuantizedMatrix<TScheme>.Quantize(w, Rows, Cols);
        var dq = q.Dequantize();

        for (int row = 0; row < Rows; row++)
        {
            for (int k = 0; k < Cols; k++)
            {
                int g = k / group;
                double scale = q.GetScale(row, g);
                int zero = info.Symmetric ? 1 << (info.Bits - 1) : Reference.Zero(q.Zeros, info.Bits, Cols / group, g, row);
                int code = Reference.Code(q.Packed, info.Bits, Cols, row, k);
                float expected = (float)scale * (code - zero); // w' = scale · (code − zero), as documented
                float actual = dq[(row * Cols) + k];
                Assert.True(expected == actual, TestData.Describe($"{info.Name}: Dequantize gives {actual} at ({row}, {k}), the formula {expected}"));

                // |w − w'| ≤ scale/2, plus float32 rounding of the product.
                double error = Math.Abs(w[(row * Cols) + k] - (double)actual);
                double bound = (scale / 2 * (1 + 1e-6)) + (Math.Abs(actual) * 1.2e-7);
                Assert.True(error <= bound, TestData.Describe($"{info.Name}: |w − w'| = {error} > {bound} at ({row}, {k}), scale {scale}"));
            }
        }
    }

    private void CheckPacking<TScheme>()
        where TScheme : struct, IQuantScheme
    {
        var info = TScheme.Info;
        var random = TestData.CreateRandom(nameof(CheckPacking) + info.Name);
        var codes = new byte[32];
        var noisy = new byte[32];
        var words = new uint[info.Bits];
        var noisyWords = new uint[info.Bits];
        var back = new byte[32];
        for (int trial = 0; trial < 200; trial++)
        {
            for (int j = 0; j < 32; j++)
            {
                codes[j] = (byte)random.Next(1 << info.Bits);
                noisy[j] = (byte)(codes[j] | (random.Next(256) << info.Bits)); // junk above the code's bits
            }

            TScheme.PackChunk(codes, words);
            for (int j = 0; j < 32; j++)
            {
                Assert.Equal(codes[j], Reference.ReadBits(words, (long)j * info.Bits, info.Bits));
            }

            TScheme.UnpackChunk(words, back);
            Assert.Equal(codes, back);

            TScheme.PackChunk(noisy, noisyWords);
            Assert.Equal(words, noisyWords);
        }
    }

    /// <summary>The vector path of the searches' inner loop against the documented rounding: values on every half-step
    /// (ties round away from zero), beyond both clamps, negative zeros and random values, over a length with a scalar
    /// tail, for a symmetric and an asymmetric grid.</summary>
    [Theory]
    [InlineData(4, false, 3)]
    [InlineData(3, true, 4)]
    [InlineData(8, false, 0)]
    public void GroupQuantizer_CodesAndErrors_RoundHalfAwayFromZeroAndClamp(int bits, bool symmetric, int zero)
    {
        var quantizer = new GroupQuantizer(new QuantSchemeInfo("t", bits, 32, symmetric));
        var random = TestData.CreateRandom(nameof(GroupQuantizer_CodesAndErrors_RoundHalfAwayFromZeroAndClamp) + bits);
        const double scale = 0.25, inverse = 4;
        var values = Enumerable.Range(-600, 1201).Select(k => k / 8.0) // every half and quarter step, ±75
            .Concat([-0.0, 0.0, 1e-300, -1e-300])
            .Concat(Enumerable.Range(0, 40).Select(_ => (random.NextDouble() - 0.5) * 80))
            .Take(1247).ToArray(); // not a multiple of the vector width
        if (symmetric)
        {
            zero = quantizer.SymmetricZero;
        }

        int lowest = symmetric ? 1 : 0, highest = symmetric ? (2 * zero) - 1 : (1 << bits) - 1;
        var codes = new double[values.Length];
        var errors = new double[values.Length];
        quantizer.CodesAndErrors(values, scale, inverse, zero, codes, errors);
        for (int i = 0; i < values.Length; i++)
        {
            double t = values[i] * inverse, r = Math.Truncate(t);
            if (Math.Abs(t - r) >= 0.5)
            {
                r += Math.Sign(t);
            }

            double code = Math.Clamp(r + zero, lowest, highest);
            Assert.True(code == codes[i], $"{bits}-bit: value {values[i]:R} gave code {codes[i]}, expected {code}");
            Assert.True(values[i] - (scale * (code - zero)) == errors[i], $"{bits}-bit: value {values[i]:R} error {errors[i]:R}");
        }
    }

    [Fact]
    public void Quantize_RejectsBadInput_WithMessagesThatNameTheValue()
    {
        var w = new float[4 * 64];
        w[5] = 1;

        var length = Assert.Throws<ArgumentException>(() => B4G32A.Quantize(w, 4, 63));
        Assert.Contains("K = 63 is not a multiple of 32", length.Message);

        var group = Assert.Throws<ArgumentException>(() => B4G128A.Quantize(w, 4, 64));
        Assert.Contains("K = 64 is not a multiple of B4G128A's group size 128", group.Message);

        var count = Assert.Throws<ArgumentException>(() => B4G32A.Quantize(w, 3, 64));
        Assert.Contains("weights has 256 values but a 3 × 64 matrix needs 192", count.Message);

        w[70] = float.NaN;
        var nan = Assert.Throws<ArgumentException>(() => B4G32A.Quantize(w, 4, 64));
        Assert.Contains("weights[70] (row 1, col 6) is NaN", nan.Message);

        w[70] = 1e9f;
        var huge = Assert.Throws<ArgumentOutOfRangeException>(() => B8G32S.Quantize(w, 4, 64));
        Assert.Contains("row 1, group 0", huge.Message);
        Assert.Contains("65504", huge.Message);

        var empty = Assert.Throws<ArgumentException>(() => B4G32A.Quantize(Array.Empty<float>(), 0, 64));
        Assert.Contains("0 × 64", empty.Message);
    }

    [Fact]
    public void FromPacked_ChecksEveryBufferLength()
    {
        var q = B3G32A.Quantize(TestData.Weights(TestData.CreateRandom("FromPacked"), 33, 64, 32), 33, 64);
        var copy = QuantizedMatrix<B3G32A>.FromPacked(33, 64, q.Packed, q.Scales, q.Zeros);
        Assert.Equal(q.Dequantize(), copy.Dequantize());
        var e = Assert.Throws<ArgumentException>(() => QuantizedMatrix<B3G32A>.FromPacked(33, 64, q.Packed, q.Scales, new uint[1]));
        Assert.Contains("needs 198 packed words, 66 scales and 9 zero words; got 198, 66 and 1", e.Message);
    }

    [Fact]
    public void ConcatRows_IsWhatQuantizingTheStackedWeightsGives()
    {
        // Round-to-nearest works row by row, so quantizing the stacked float rows is an independent path to the same
        // bits. Row counts leave each part's zero-point stream ending inside a 32-code chunk.
        ConcatRowsMatchesStackedQuantization<B3G32A>(64, 5, 7, 3);
        ConcatRowsMatchesStackedQuantization<B2G128A>(256, 9, 1, 30);
        ConcatRowsMatchesStackedQuantization<B3GPCA>(96, 11, 13);
        ConcatRowsMatchesStackedQuantization<B4G32S>(64, 4, 6, 2);
        ConcatRowsMatchesStackedQuantization<B8GPCS>(32, 1);

        var a = B3G32A.Quantize(TestData.Weights(TestData.CreateRandom("ConcatRows cols"), 2, 64, 32), 2, 64);
        var b = B3G32A.Quantize(TestData.Weights(TestData.CreateRandom("ConcatRows cols b"), 2, 96, 32), 2, 96);
        var e = Assert.Throws<ArgumentException>(() => QuantizedMatrix<B3G32A>.ConcatRows(a, b));
        Assert.Contains("parts[1] has 96 columns but parts[0] has 64", e.Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentException>(() => QuantizedMatrix<B3G32A>.ConcatRows());
    }

    private static void ConcatRowsMatchesStackedQuantization<TScheme>(int cols, params int[] rows)
        where TScheme : struct, IQuantScheme
    {
        var random = TestData.CreateRandom($"ConcatRows {TScheme.Info.Name} {cols} {string.Join(",", rows)}");
        int groupSize = TScheme.Info.GroupSize == QuantSchemeAttribute.PerChannel ? cols : TScheme.Info.GroupSize;
        var parts = rows.Select(r => TestData.Weights(random, r, cols, groupSize)).ToArray();
        var stacked = QuantizedMatrix<TScheme>.Quantize(parts.SelectMany(p => p).ToArray(), rows.Sum(), cols);
        var concatenated = QuantizedMatrix<TScheme>.ConcatRows(parts.Select((p, i) => QuantizedMatrix<TScheme>.Quantize(p, rows[i], cols)).ToArray());
        Assert.Equal((stacked.Rows, stacked.Cols), (concatenated.Rows, concatenated.Cols));
        Assert.Equal(stacked.Packed, concatenated.Packed);
        Assert.Equal(stacked.Scales, concatenated.Scales);
        Assert.Equal(stacked.Zeros, concatenated.Zeros);
    }

    [Fact]
    public void BitsPerWeight_CountsScalesAndZeros()
    {
        var w = TestData.Weights(TestData.CreateRandom("bpw"), 64, 256, 128);
        Assert.Equal(4 + (16.0 + 4) / 128, B4G128A.Quantize(w, 64, 256).BitsPerWeight, 12);
        Assert.Equal(3 + 16.0 / 32, B3G32S.Quantize(w, 64, 256).BitsPerWeight, 12);
        Assert.Equal(8 + 16.0 / 256, B8GPCS.Quantize(w, 64, 256).BitsPerWeight, 12);
        Assert.Equal(B4G128A.Info.BitsPerWeight(256), B4G128A.Quantize(w, 64, 256).BitsPerWeight, 12);
    }
}
