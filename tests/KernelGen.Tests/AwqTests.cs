using System;
using KernelGen.Quantization;
using Xunit;
using Xunit.Abstractions;

namespace KernelGen.Tests;

/// <summary>AWQ against its identities: α = 0 is round-to-nearest; salient input channels are protected.</summary>
public sealed class AwqTests
{
    private readonly ITestOutputHelper output;

    public AwqTests(ITestOutputHelper output) => this.output = output;

    [Theory]
    [InlineData(nameof(B4G128A))]
    [InlineData(nameof(B3G32S))]
    [InlineData(nameof(B5GPCA))]
    public void AlphaZero_IsRoundToNearest(string scheme) => SchemeMatrix.Invoke(this, nameof(CheckAlphaZero), scheme);

    private void CheckAlphaZero<TScheme>()
        where TScheme : struct, IQuantScheme
    {
        const int rows = 19, cols = 256, count = 8;
        var random = TestData.CreateRandom(nameof(CheckAlphaZero) + TScheme.Info.Name);
        var w = TestData.Weights(random, rows, cols, TScheme.Info.IsPerChannel ? cols : TScheme.Info.GroupSize);
        var mean = new double[cols];
        for (int c = 0; c < cols; c++)
        {
            mean[c] = 0.1 + (10 * random.NextDouble());
        }

        var awq = Awq.Quantize<TScheme>(w, rows, cols, mean, TestData.Activations(random, count * cols), count, new[] { 0.0 });
        var rtn = QuantizedMatrix<TScheme>.Quantize(w, rows, cols);
        Assert.Equal(0.0, awq.Alpha);
        Assert.All(awq.InputScales, s => Assert.Equal(1f, s));
        Assert.Equal(rtn.Packed, awq.Scaled.Packed);
        Assert.Equal(rtn.Scales, awq.Scaled.Scales);
        Assert.Equal(rtn.Zeros, awq.Scaled.Zeros);
        Assert.Equal(rtn.Dequantize(), awq.EffectiveWeights());
    }

    [Theory]
    [InlineData(nameof(B4G128A))]
    [InlineData(nameof(B3G32A))]
    public void SalientChannels_AwqBeatsRoundToNearest(string scheme) => SchemeMatrix.Invoke(this, nameof(CheckSalient), scheme);

    private void CheckSalient<TScheme>()
        where TScheme : struct, IQuantScheme
    {
        const int rows = 64, cols = 256, count = 256;
        var random = TestData.CreateRandom(nameof(CheckSalient) + TScheme.Info.Name);
        var w = new float[rows * cols];
        for (int i = 0; i < w.Length; i++)
        {
            w[i] = (float)(0.05 * TestData.Gaussian(random));
        }

        // Activations where 1 channel in 32 is 30× larger, as outlier channels in LLM activations are.
        var x = new float[count * cols];
        var mean = new double[cols];
        for (int s = 0; s < count; s++)
        {
            for (int c = 0; c < cols; c++)
            {
                float v = (float)(TestData.Gaussian(random) * (c % 32 == 5 ? 30 : 1));
                x[(s * cols) + c] = v;
                mean[c] += Math.Abs(v) / count;
            }
        }

        var awq = Awq.Quantize<TScheme>(w, rows, cols, mean, x, count);
        var x64 = Array.ConvertAll(x, v => (double)v);
        double rtnError = Reference.LayerOutputError(x64, w, QuantizedMatrix<TScheme>.Quantize(w, rows, cols).Dequantize(), count, rows, cols);
        double awqError = Reference.LayerOutputError(x64, w, awq.EffectiveWeights(), count, rows, cols);
        output.WriteLine($"{TScheme.Info}: α = {awq.Alpha:F2}, output error AWQ / RTN = {awqError / rtnError:F3}");
        Assert.True(awq.Alpha > 0, "salient channels should make a positive α win");
        Assert.True(awqError < 0.9 * rtnError, TestData.Describe($"AWQ {awqError:E3} vs RTN {rtnError:E3}"));
    }
}
