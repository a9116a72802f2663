using System;
using KernelGen.Layers;
using Xunit;

namespace KernelGen.Tests;

/// <summary>CapturingLinear's statistics against float64 sums computed here, across its 64-input batches.</summary>
public sealed class CapturingLinearTests
{
    [Fact]
    public void Statistics_MatchFloat64Sums_WhenReadMidBatchAndAtTheEnd()
    {
        const int n = 37, rows = 5, inputs = 150; // two full batches and a partial one
        var random = TestData.CreateRandom("capture");
        var w = TestData.Activations(random, rows * n);
        using var capture = new CapturingLinear(new DenseLinear(w, rows, n));
        var hessian = new double[n * n];
        var meanAbsolute = new double[n];
        var xs = new float[inputs][];
        var y = new float[rows];
        for (int s = 0; s < inputs; s++)
        {
            var x = xs[s] = TestData.Activations(random, n);
            if (s % 7 == 3)
            {
                x[s % n] = 0; // exact zeros are skipped by the accumulation and must still count as zeros
            }

            capture.Forward(x, y);
            for (int i = 0; i < n; i++)
            {
                meanAbsolute[i] += Math.Abs(x[i]);
                for (int j = 0; j < n; j++)
                {
                    hessian[(i * n) + j] += x[i] * (double)x[j];
                }
            }

            for (int r = 0; r < rows; r++)
            {
                double expected = 0;
                for (int i = 0; i < n; i++)
                {
                    expected += w[(r * n) + i] * (double)x[i];
                }

                Assert.True(Math.Abs(y[r] - expected) <= 1e-4 * (1 + Math.Abs(expected)), TestData.Describe($"output {r} of input {s}"));
            }

            if (s == 69 || s == inputs - 1)
            {
                var actual = capture.Hessian;
                for (int i = 0; i < n * n; i++)
                {
                    Assert.True(Math.Abs(actual[i] - hessian[i]) <= 1e-9 * (1 + Math.Abs(hessian[i])), TestData.Describe($"XᵀX[{i / n}, {i % n}] after {s + 1} inputs: {actual[i]} vs {hessian[i]}"));
                }
            }
        }

        Assert.Equal(inputs, capture.Samples);
        for (int i = 0; i < n; i++)
        {
            Assert.Equal(meanAbsolute[i], capture.MeanAbsolute[i], 9);
        }

        Assert.Equal(inputs, capture.SampleCount);
        Assert.Equal(xs[149], capture.SampleRows.AsSpan(149 * n, n).ToArray());
    }

    [Fact]
    public void WithoutHessian_SaysHowToGetOne()
    {
        using var capture = new CapturingLinear(new DenseLinear(new float[8], 2, 4), hessian: false);
        capture.Forward(new float[] { 1, 2, 3, 4 }, new float[2]);
        Assert.Equal(new double[] { 1, 2, 3, 4 }, capture.MeanAbsolute);
        var e = Assert.Throws<InvalidOperationException>(() => capture.Hessian);
        Assert.Contains("hessian: true", e.Message);
    }
}
