using System;
using System.Linq;
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

    [Fact]
    public void WeightMeans_AndWeightAwareScales_MatchHandComputedValues()
    {
        // Two one-row layers reading the same 4 channels, per-channel scheme (a group is the whole row): each channel's
        // weight mean is |w| over its row's max |w|, averaged over the rows of both layers.
        float[] a = [1, -2, 4, 1], b = [-3, 3, 0.5f, -2];
        var means = Awq.WeightMeans<B5GPCA>([(a, 1), (b, 1)], 4);
        double[] expected = [((1 / 4.0) + (3 / 3.0)) / 2, ((2 / 4.0) + (3 / 3.0)) / 2, ((4 / 4.0) + (0.5 / 3.0)) / 2, ((1 / 4.0) + (2 / 3.0)) / 2];
        for (int c = 0; c < 4; c++)
        {
            Assert.Equal(expected[c], means[c], 5);
        }

        // s_c = max(x_c^α / (w_c^(1−α) + 1e-4), 1e-4), then divided by √(max·min).
        double[] x = [0.5, 2, 8, 1];
        const double alpha = 0.3;
        var raw = new double[4];
        for (int c = 0; c < 4; c++)
        {
            raw[c] = Math.Max(Math.Pow(x[c], alpha) / (Math.Pow(expected[c], 1 - alpha) + 1e-4), 1e-4);
        }

        double norm = Math.Sqrt(raw.Max() * raw.Min());
        var scales = Awq.Scales(x, alpha, means);
        for (int c = 0; c < 4; c++)
        {
            Assert.Equal(raw[c] / norm, scales[c], 5);
        }

        // Without weight means it is the paper's s = x^α.
        var plain = Awq.Scales(x, alpha);
        double plainNorm = Math.Sqrt(Math.Pow(8, alpha) * Math.Pow(0.5, alpha));
        Assert.Equal(Math.Pow(2, alpha) / plainNorm, plain[1], 5);
    }

    [Theory]
    [InlineData(nameof(B4G128A))]
    [InlineData(nameof(B3G32A))]
    public void WeightAwareSearch_NeverScoresWorseThanThePapersForm(string scheme) => SchemeMatrix.Invoke(this, nameof(CheckWeightAware), scheme);

    private void CheckWeightAware<TScheme>()
        where TScheme : struct, IQuantScheme
    {
        const int rows = 48, cols = 256, count = 128;
        var random = TestData.CreateRandom(nameof(CheckWeightAware) + TScheme.Info.Name);
        var w = TestData.Weights(random, rows, cols, TScheme.Info.GroupSize);
        var x = TestData.Activations(random, count * cols);
        var mean = new double[cols];
        for (int i = 0; i < x.Length; i++)
        {
            mean[i % cols] += Math.Abs(x[i]) / count;
        }

        var x64 = Array.ConvertAll(x, v => (double)v);
        double Error(float[] scales)
        {
            var scaled = new float[w.Length];
            for (int i = 0; i < w.Length; i++)
            {
                scaled[i] = w[i] * scales[i % cols];
            }

            var effective = QuantizedMatrix<TScheme>.Quantize(scaled, rows, cols).Dequantize();
            for (int i = 0; i < effective.Length; i++)
            {
                effective[i] /= scales[i % cols];
            }

            return Reference.LayerOutputError(x64, w, effective, count, rows, cols);
        }

        var layers = new[] { (w, rows) };
        var paper = Awq.SearchScales<TScheme>(layers, cols, mean, x, count);
        var both = Awq.SearchScales<TScheme>(layers, cols, mean, x, count, weightMeans: Awq.WeightMeans<TScheme>(layers, cols));
        Assert.False(paper.WeightAware);
        double paperError = Error(paper.Scales), bothError = Error(both.Scales);
        output.WriteLine($"{TScheme.Info}: paper α = {paper.Alpha:F2} error {paperError:E3}; searched both: α = {both.Alpha:F2} weight-aware {both.WeightAware} error {bothError:E3}");
        Assert.True(bothError <= paperError * (1 + 1e-6), TestData.Describe($"searching both forms scored {bothError:E3}, the paper's form alone {paperError:E3}"));
    }
}
