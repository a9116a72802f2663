using System;
using KernelGen.Quantization;
using Xunit;
using Xunit.Abstractions;

namespace KernelGen.Tests;

/// <summary>GPTQ against the identities that pin it down: its factorization's definition, H = I reducing it to
/// round-to-nearest, and lower layer-output error than RTN when inputs are correlated.</summary>
public sealed class GptqTests
{
    private readonly ITestOutputHelper output;

    public GptqTests(ITestOutputHelper output) => this.output = output;

    /// <summary>n = 420 also takes the Cholesky's parallel columns (those of more than 32768 multiply-adds).</summary>
    [Theory]
    [InlineData(40)]
    [InlineData(420)]
    public void UpperCholeskyOfInverse_SatisfiesItsDefinition(int n)
    {
        var random = TestData.CreateRandom(nameof(UpperCholeskyOfInverse_SatisfiesItsDefinition) + n);
        var a = new double[n * n];
        for (int i = 0; i < a.Length; i++)
        {
            a[i] = TestData.Gaussian(random);
        }

        var h = new double[n * n]; // A·Aᵀ + n·I: symmetric positive definite
        for (int i = 0; i < n; i++)
        {
            for (int j = 0; j < n; j++)
            {
                double s = i == j ? n : 0;
                for (int k = 0; k < n; k++)
                {
                    s += a[(i * n) + k] * a[(j * n) + k];
                }

                h[(i * n) + j] = s;
            }
        }

        var u = Gptq.UpperCholeskyOfInverse(h, n);
        for (int i = 0; i < n; i++)
        {
            for (int j = 0; j < i; j++)
            {
                Assert.Equal(0.0, u[(i * n) + j]); // upper triangular
            }
        }

        // (UᵀU)·H = I
        var inverse = new double[n * n];
        for (int i = 0; i < n; i++)
        {
            for (int k = 0; k < n; k++)
            {
                double sum = 0;
                for (int m = 0; m < n; m++)
                {
                    sum += u[(m * n) + i] * u[(m * n) + k];
                }

                inverse[(i * n) + k] = sum;
            }
        }

        for (int i = 0; i < n; i++)
        {
            for (int j = 0; j < n; j++)
            {
                double s = 0;
                for (int k = 0; k < n; k++)
                {
                    s += inverse[(i * n) + k] * h[(k * n) + j];
                }

                Assert.True(Math.Abs(s - (i == j ? 1 : 0)) < 1e-9, $"(UᵀU·H)[{i},{j}] = {s}");
            }
        }
    }

    [Theory]
    [MemberData(nameof(SchemeMatrix.Names), MemberType = typeof(SchemeMatrix))]
    public void IdentityHessian_ReducesToRoundToNearest(string scheme) => SchemeMatrix.Invoke(this, nameof(CheckIdentity), scheme);

    private void CheckIdentity<TScheme>()
        where TScheme : struct, IQuantScheme
    {
        const int rows = 21, cols = 256;
        var info = TScheme.Info;
        var w = TestData.Weights(TestData.CreateRandom(nameof(CheckIdentity) + info.Name), rows, cols, info.IsPerChannel ? cols : info.GroupSize);
        var identity = new double[cols * cols];
        for (int i = 0; i < cols; i++)
        {
            identity[(i * cols) + i] = 1;
        }

        var gptq = Gptq.Quantize<TScheme>(w, rows, cols, identity);
        var rtn = QuantizedMatrix<TScheme>.Quantize(w, rows, cols);
        Assert.Equal(rtn.Scales, gptq.Scales);
        Assert.Equal(rtn.Zeros, gptq.Zeros);
        Assert.Equal(rtn.Packed, gptq.Packed);

        // Act-order with static groups: no error moves between columns when H = I, and the groups' parameters are
        // RTN's, so the order does not matter either.
        var actOrder = Gptq.Quantize<TScheme>(w, rows, cols, identity, new GptqOptions(ActOrder: true));
        Assert.Equal(rtn.Scales, actOrder.Scales);
        Assert.Equal(rtn.Zeros, actOrder.Zeros);
        Assert.Equal(rtn.Packed, actOrder.Packed);
    }

    [Theory]
    [InlineData(nameof(B4G128A))]
    [InlineData(nameof(B3G32A))]
    [InlineData(nameof(B4GPCS))]
    [InlineData(nameof(B2G32A))]
    public void CorrelatedInputs_GptqBeatsRoundToNearest(string scheme) => SchemeMatrix.Invoke(this, nameof(CheckCorrelated), scheme);

    private void CheckCorrelated<TScheme>()
        where TScheme : struct, IQuantScheme
    {
        const int rows = 48, cols = 256, samples = 1024, factors = 24;
        var random = TestData.CreateRandom(nameof(CheckCorrelated) + TScheme.Info.Name);

        // Inputs with strong correlations: x = z·B + 0.1·noise, z of 24 latent factors.
        var b = new double[factors * cols];
        for (int i = 0; i < b.Length; i++)
        {
            b[i] = TestData.Gaussian(random);
        }

        // Per-channel input scales spread over ~10× (log-normal), as real activations' outlier channels are.
        var channelScale = new double[cols];
        for (int c = 0; c < cols; c++)
        {
            channelScale[c] = Math.Exp(0.6 * TestData.Gaussian(random));
        }

        var x = new double[samples * cols];
        for (int s = 0; s < samples; s++)
        {
            var z = new double[factors];
            for (int f = 0; f < factors; f++)
            {
                z[f] = TestData.Gaussian(random);
            }

            for (int c = 0; c < cols; c++)
            {
                double v = 0.1 * TestData.Gaussian(random);
                for (int f = 0; f < factors; f++)
                {
                    v += z[f] * b[(f * cols) + c];
                }

                x[(s * cols) + c] = v * channelScale[c];
            }
        }

        var h = new double[cols * cols]; // XᵀX
        for (int i = 0; i < cols; i++)
        {
            for (int j = 0; j <= i; j++)
            {
                double v = 0;
                for (int s = 0; s < samples; s++)
                {
                    v += x[(s * cols) + i] * x[(s * cols) + j];
                }

                h[(i * cols) + j] = v;
                h[(j * cols) + i] = v;
            }
        }

        var w = new float[rows * cols];
        for (int i = 0; i < w.Length; i++)
        {
            w[i] = (float)(0.05 * TestData.Gaussian(random));
        }

        double rtnError = Reference.LayerOutputError(x, w, QuantizedMatrix<TScheme>.Quantize(w, rows, cols).Dequantize(), samples, rows, cols);
        double gptqError = Reference.LayerOutputError(x, w, Gptq.Quantize<TScheme>(w, rows, cols, h).Dequantize(), samples, rows, cols);
        double actError = Reference.LayerOutputError(x, w, Gptq.Quantize<TScheme>(w, rows, cols, h, new GptqOptions(ActOrder: true)).Dequantize(), samples, rows, cols);
        output.WriteLine($"{TScheme.Info}: output error GPTQ / RTN = {gptqError / rtnError:F3}, act-order GPTQ / RTN = {actError / rtnError:F3}");
        Assert.True(gptqError < 0.9 * rtnError, TestData.Describe($"{TScheme.Info.Name}: GPTQ output error {gptqError:E3} vs RTN {rtnError:E3}"));
        Assert.True(actError < 0.9 * rtnError, TestData.Describe($"{TScheme.Info.Name}: act-order GPTQ output error {actError:E3} vs RTN {rtnError:E3}"));
    }

    [Fact]
    public void BadInput_IsRejectedWithTheReason()
    {
        var w = new float[4 * 32];
        w[3] = 1;
        var e = Assert.Throws<ArgumentException>(() => Gptq.Quantize<B4G32A>(w, 4, 32, new double[10]));
        Assert.Contains("a 32 × 32 Hessian (1024 values); got 128 and 10", e.Message);

        var negative = new double[32 * 32];
        for (int i = 0; i < 32; i++)
        {
            negative[(i * 32) + i] = -1;
        }

        var p = Assert.Throws<ArgumentException>(() => Gptq.Quantize<B4G32A>(w, 4, 32, negative));
        Assert.Contains("not positive definite", p.Message);
    }
}
