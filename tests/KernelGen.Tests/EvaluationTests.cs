using System;
using System.IO;
using System.Linq;
using KernelGen.Evaluation;
using KernelGen.Formats;
using KernelGen.Formats.Llama2C;
using KernelGen.Layers;
using KernelGen.Models;
using KernelGen.Quantization;
using KernelGen.Tests.Models;
using Xunit;

namespace KernelGen.Tests;

/// <summary>The evaluation metrics against hand-computed cases and independent float64 recomputation.</summary>
public sealed class EvaluationTests
{
    [Fact]
    public void Percentile_IsNearestRank()
    {
        var values = new double[] { 5, 1, 4, 2, 3, 10, 9, 8, 7, 6 };
        Assert.Equal(10, Statistics.Percentile(values, 0.99)); // ceil(9.9) = 10th smallest
        Assert.Equal(9, Statistics.Percentile(values, 0.90));  // ceil(9) = 9th
        Assert.Equal(5, Statistics.Percentile(values, 0.50));  // ceil(5) = 5th
        Assert.Equal(1, Statistics.Percentile(values, 0.0));
    }

    [Fact]
    public void RecallAtK_HandCases()
    {
        // Points on a circle at angles 0°, 10°, 25°, 90°; k = 1. Under the reference, nearest: 0→1, 1→0, 2→1, 3→2.
        // The candidate moves point 3 to −4°: 0's nearest becomes 3 and 3's becomes 0; 1 (10° to 0, 14° to 3) and
        // 2 keep theirs — two of four queries change.
        float[] At(double degrees) => new[] { (float)Math.Cos(degrees * Math.PI / 180), (float)Math.Sin(degrees * Math.PI / 180) };
        var reference = new[] { At(0), At(10), At(25), At(90) };
        var candidate = new[] { At(0), At(10), At(25), At(-4) };
        Assert.Equal(1.0, Statistics.RecallAtK(reference, reference, 1));
        Assert.Equal(0.5, Statistics.RecallAtK(reference, candidate, 1), 12);
        Assert.Equal(1.0, Statistics.Cosine(At(30), At(30)), 6);
        Assert.Equal(0.0, Statistics.Cosine(At(0), At(90)), 6);
    }

    [Fact]
    public void ProbedLinear_ReportsTheRelativeOutputError()
    {
        // W = [[1, 2], [3, 4]], W' = [[1, 2], [3, 5]], x = (1, 1) then (2, −1):
        // y = (3, 7), y' = (3, 8): error² = 1, ref² = 58; y = (0, 2), y' = (0, 1): error² = 1, ref² = 4.
        using var probe = new ProbedLinear("t", new DenseLinear(new float[] { 1, 2, 3, 5 }, 2, 2), new DenseLinear(new float[] { 1, 2, 3, 4 }, 2, 2));
        var y = new float[2];
        probe.Forward(new float[] { 1, 1 }, y);
        Assert.Equal(new float[] { 3, 8 }, y);
        probe.Forward(new float[] { 2, -1 }, y);
        Assert.Equal(Math.Sqrt(2.0 / 62.0), probe.RelativeError, 12);
        Assert.Equal(2, probe.Calls);
    }

    [Fact]
    public void LogSoftmax_NormalizesAndFindsTheArgMax()
    {
        var logits = new float[] { 1f, 3f, -2f, 3f };
        var log = new double[4];
        Assert.Equal(1, DecoderEvaluation.LogSoftmax(logits, log));
        Assert.Equal(1.0, log.Sum(Math.Exp), 12);
        Assert.Equal(1 - 3 - Math.Log(Math.Exp(-2) + 2 + Math.Exp(-5)), log[0], 12);
    }

    [ModelFact]
    public void Evaluate_MatchesAnIndependentFloat64Recomputation()
    {
        var weights = Llama2CCheckpoint.Load(ModelFiles.Checkpoint);
        var tokenizer = Llama2CTokenizer.Load(ModelFiles.Tokenizer, 512);
        var text = "Once upon a time, there was a little girl named Lily. She loved to play outside in the park. One day, she saw a big, red ball. She wanted to play with it, but it was too high.";
        var chunks = DecoderEvaluation.Chunk(tokenizer.Encode(text, false, false), 20);
        Assert.True(chunks.Count >= 2);
        var quantized = LlamaQuantizer.Rtn<B4G32A>(weights);
        using var baseline = LlamaModel.CreateDense(weights);
        var candidate = DecoderEvaluation.Probe("q4", 4.5, weights, weights, (name, _, rows, cols) => new DenseLinear(Trim(quantized[name].Dequantize(), quantized[name].Cols, rows, cols), rows, cols));
        var self = DecoderEvaluation.Probe("self", 32, weights, weights, (_, w, rows, cols) => new DenseLinear(w, rows, cols));
        var (baseMetrics, results) = DecoderEvaluation.Evaluate(baseline, new[] { candidate, self }, chunks, Llama2CTokenizer.Bos);

        // Recompute: the float64 reference model for perplexity; each model alone for KL and top-1.
        double referenceNll = 0, kl = 0;
        int positions = 0, same = 0;
        var klValues = new System.Collections.Generic.List<double>();
        using var alone = LlamaQuantizer.Dequantized(weights, quantized);
        using var dense = LlamaModel.CreateDense(weights);
        foreach (var chunk in chunks)
        {
            var reference = new ReferenceLlama(weights);
            int token = Llama2CTokenizer.Bos;
            for (int pos = 0; pos < chunk.Length; pos++)
            {
                var r = reference.Forward(token, pos);
                double max = r.Max();
                double logSum = max + Math.Log(r.Sum(v => Math.Exp(v - max)));
                referenceNll -= r[chunk[pos]] - logSum;

                var p = Softmax(dense.Forward(token, pos).ToArray());
                var q = Softmax(alone.Forward(token, pos).ToArray());
                double d = p.Select((pv, v) => pv * (Math.Log(pv) - Math.Log(q[v]))).Sum();
                kl += d;
                klValues.Add(d);
                same += Array.IndexOf(p, p.Max()) == Array.IndexOf(q, q.Max()) ? 1 : 0;
                token = chunk[pos];
                positions++;
            }
        }

        Assert.Equal(positions, baseMetrics.Positions);
        Assert.Equal(Math.Exp(referenceNll / positions), baseMetrics.Perplexity, 1e-4 * baseMetrics.Perplexity);
        Assert.Equal(kl / positions, results[0].MeanKl, 1e-6 * kl / positions);
        Assert.Equal(klValues.Max(), results[0].MaxKl, 1e-6 * klValues.Max());
        Assert.Equal(same / (double)positions, results[0].SameTop1);
        Assert.All(results[0].Layers, l => Assert.InRange(l.RelativeError, 1e-4, 0.5));
        Assert.Equal(35, results[0].Layers.Count);

        // The float model against itself: no divergence, same perplexity, no layer error.
        Assert.Equal(0, results[1].MaxKl, 12);
        Assert.Equal(1.0, results[1].SameTop1);
        Assert.Equal(baseMetrics.Perplexity, results[1].Perplexity, 1e-12);
        Assert.All(results[1].Layers, l => Assert.Equal(0, l.RelativeError));
        candidate.Model.Dispose();
        self.Model.Dispose();
    }

    [Fact]
    public void Tasks_JudgeCompareAndDecideTheVerdict()
    {
        string path = Path.GetTempFileName();
        try
        {
            File.WriteAllLines(path, new[]
            {
                """{"task": "capitals", "critical": true, "prompt": "The capital of France is", "expected": "Paris"}""",
                """{"task": "capitals", "critical": true, "prompt": "The capital of Italy is", "expected": "rome"}""",
                "",
                """{"task": "math", "prompt": "2 + 2 =", "expected": "4", "match": "exact"}""",
            });
            var items = TaskSuite.Load(path);
            Assert.Equal(3, items.Count);
            Assert.True(TaskSuite.Judge(items[0], " Paris, of course."));
            Assert.True(TaskSuite.Judge(items[1], " Rome."));          // contains is case-insensitive
            Assert.True(TaskSuite.Judge(items[2], " 4 \n"));           // exact compares trimmed text
            Assert.False(TaskSuite.Judge(items[2], " 4, I think"));

            TaskOutcome O(int i, bool ok) => new(items[i], string.Empty, ok);
            var baseline = new[] { O(0, true), O(1, true), O(2, true) };
            var oneCapitalLost = new[] { O(0, true), O(1, false), O(2, true) };
            var mathLost = new[] { O(0, true), O(1, true), O(2, false) };
            var capitals = TaskSuite.Compare(baseline, oneCapitalLost).Single(t => t.Task == "capitals");
            Assert.Equal((1.0, 0.5, 0.5, true), (capitals.BaselineAccuracy, capitals.CandidateAccuracy, capitals.RelativeDrop, capitals.Fails));
            Assert.DoesNotContain(TaskSuite.Compare(baseline, mathLost), t => t.Fails); // math is not critical
            Assert.False(new TaskComparison("t", true, 10, 1.0, 0.9).Fails);         // exactly 10 % is allowed
            Assert.True(new TaskComparison("t", true, 10, 1.0, 0.8).Fails);

            File.WriteAllLines(path, new[] { """{"task": "x", "prompt": "p"}""" });
            var e = Assert.Throws<ModelFormatException>(() => TaskSuite.Load(path));
            Assert.Equal("line 1: expected", e.Field);
            File.WriteAllLines(path, new[] { """{"prompt": "p", "expected": "e"}""", """{"prompt": "p", "expected": "e", "match": "regex"}""" });
            e = Assert.Throws<ModelFormatException>(() => TaskSuite.Load(path));
            Assert.Equal("line 2: match", e.Field);
            Assert.Contains("'regex' is not \"contains\" or \"exact\"", e.Message);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void ClipSearch_WithoutSteps_IsRtn_AndWithThemNeverWorse()
    {
        var random = TestData.CreateRandom(nameof(ClipSearch_WithoutSteps_IsRtn_AndWithThemNeverWorse));
        const int rows = 24, cols = 256;
        // Heavy-tailed weights (Student-t-like): a few outliers per group, where clipping pays.
        var w = new float[rows * cols];
        for (int i = 0; i < w.Length; i++)
        {
            double g = TestData.Gaussian(random);
            w[i] = (float)(g / Math.Sqrt(Math.Max(random.NextDouble(), 0.02)));
        }

        var rtn = QuantizedMatrix<B4G32A>.Quantize(w, rows, cols);
        var same = ClipSearch.Quantize<B4G32A>(w, rows, cols, steps: 0);
        Assert.Equal(rtn.Packed, same.Packed);
        Assert.Equal(rtn.Scales, same.Scales);
        Assert.Equal(rtn.Zeros, same.Zeros);

        var clipped = ClipSearch.Quantize<B4G32A>(w, rows, cols);
        var a = rtn.Dequantize();
        var b = clipped.Dequantize();
        double rtnError = 0, clippedError = 0;
        for (int group = 0; group < w.Length / 32; group++)
        {
            double eg = 0, cg = 0;
            for (int i = group * 32; i < (group + 1) * 32; i++)
            {
                eg += Math.Pow(w[i] - (double)a[i], 2);
                cg += Math.Pow(w[i] - (double)b[i], 2);
            }

            Assert.True(cg <= eg * (1 + 1e-12), $"group {group}: clipped {cg} > RTN {eg}");
            rtnError += eg;
            clippedError += cg;
        }

        Assert.True(clippedError < 0.98 * rtnError, $"clip search {clippedError:E3} vs RTN {rtnError:E3}");
    }

    /// <summary>The search's batched dᵀ·M·d (fused multiply-adds, up to four candidates per pass over M) against the
    /// double sum over every entry, for group sizes on the vector path (multiples of two vectors) and off it, and for
    /// 1 to 4 candidates. M is a Gram matrix of Gaussian rows plus an uneven diagonal; each candidate's d is its own.</summary>
    [Theory]
    [InlineData(8)]
    [InlineData(24)]
    [InlineData(32)]
    [InlineData(128)]
    [InlineData(12)]
    [InlineData(20)]
    public void ClipSearch_QuadraticForms_MatchTheSumOverEveryEntry(int n)
    {
        var random = TestData.CreateRandom(nameof(ClipSearch_QuadraticForms_MatchTheSumOverEveryEntry) + n);
        var m = new double[n * n];
        for (int r = 0; r < n + 3; r++)
        {
            var x = new double[n];
            for (int i = 0; i < n; i++)
            {
                x[i] = TestData.Gaussian(random) * (1 + (i % 5));
            }

            for (int i = 0; i < n; i++)
            {
                for (int j = 0; j < n; j++)
                {
                    m[(i * n) + j] += x[i] * x[j];
                }
            }
        }

        for (int i = 0; i < n; i++)
        {
            m[(i * n) + i] += random.NextDouble();
        }

        for (int count = 1; count <= 4; count++)
        {
            var errors = new double[4 * n];
            for (int i = 0; i < errors.Length; i++)
            {
                errors[i] = TestData.Gaussian(random) * 0.01;
            }

            var losses = new double[4];
            ClipSearch.QuadraticForms(m, errors, n, count, losses, new double[n]);
            for (int k = 0; k < 4; k++)
            {
                if (k >= count)
                {
                    Assert.Equal(0, losses[k]);
                    continue;
                }

                double expected = 0, magnitude = 0;
                for (int i = 0; i < n; i++)
                {
                    for (int j = 0; j < n; j++)
                    {
                        double term = errors[(k * n) + i] * m[(i * n) + j] * errors[(k * n) + j];
                        expected += term;
                        magnitude += Math.Abs(term);
                    }
                }

                Assert.True(Math.Abs(losses[k] - expected) <= 1e-13 * magnitude, TestData.Describe($"n {n}, {count} candidates, candidate {k}: {losses[k]:R} against {expected:R} (Σ|terms| {magnitude:R})"));
            }
        }
    }

    /// <summary>With sample inputs the search minimizes each group's own output-error term dᵀ·X_gᵀX_g·d (AWQ's
    /// auto-clip), never above RTN's since α = 1 is a candidate. The layer's total output error also has cross-group
    /// terms, so it is not guaranteed to fall; on heavy-tailed weights with uneven inputs it does, recomputed in
    /// float64.</summary>
    [Fact]
    public void ClipSearch_WithSampleInputs_LowersTheOutputError()
    {
        var random = TestData.CreateRandom(nameof(ClipSearch_WithSampleInputs_LowersTheOutputError));
        const int rows = 16, cols = 128, count = 48;
        var w = new float[rows * cols];
        for (int i = 0; i < w.Length; i++)
        {
            w[i] = (float)(TestData.Gaussian(random) / Math.Sqrt(Math.Max(random.NextDouble(), 0.02)));
        }

        var x = new float[count * cols];
        for (int i = 0; i < x.Length; i++)
        {
            x[i] = (float)(TestData.Gaussian(random) * (1 + (i % cols % 7))); // uneven channel magnitudes
        }

        double Error(float[] q)
        {
            var xd = x.Select(v => (double)v).ToArray();
            return Reference.LayerOutputError(xd, w, q, count, rows, cols);
        }

        double rtn = Error(QuantizedMatrix<B3G32A>.Quantize(w, rows, cols).Dequantize());
        double byOutput = Error(ClipSearch.Quantize<B3G32A>(w, rows, cols, x, count).Dequantize());
        Assert.True(byOutput < rtn, $"output-aware clip {byOutput:E3} vs RTN {rtn:E3}");
    }

    /// <summary>The search against brute force in float64, for every scheme: each group's 21 candidate ranges quantized
    /// by the documented round-to-nearest math and scored by Σ_n (x_n · d)² over the sample rows directly (no Gram
    /// matrix); the codes, scale and zero point the search stored must be those of a candidate whose score is the
    /// lowest (to 1e-9, where two candidates tie up to rounding). The weights hold a zero group, outliers and
    /// one-signed groups; the inputs have uneven channel magnitudes and a zero channel.</summary>
    [Theory]
    [MemberData(nameof(SchemeMatrix.Names), MemberType = typeof(SchemeMatrix))]
    public void ClipSearch_WithSampleInputs_KeepsEachGroupsLowestScoringRange(string scheme) => SchemeMatrix.Invoke(this, nameof(CheckClipSearch), scheme);

    private void CheckClipSearch<TScheme>()
        where TScheme : struct, IQuantScheme
    {
        var info = TScheme.Info;
        var random = TestData.CreateRandom(nameof(CheckClipSearch) + info.Name);
        const int rows = 7, cols = 256, count = 40, steps = 20;
        int group = info.IsPerChannel ? cols : info.GroupSize;
        var w = TestData.Weights(random, rows, cols, group);
        var x = new double[count * cols];
        var xf = new float[x.Length];
        for (int i = 0; i < x.Length; i++)
        {
            xf[i] = i % cols == 5 ? 0 : (float)(TestData.Gaussian(random) * (1 + (i % cols % 7)));
            x[i] = xf[i];
        }

        var q = ClipSearch.Quantize<TScheme>(w, rows, cols, xf, count);
        int maxCode = (1 << info.Bits) - 1, symZero = 1 << (info.Bits - 1);
        int lowest = info.Symmetric ? 1 : 0, highest = info.Symmetric ? (2 * symZero) - 1 : maxCode;
        var codes = new int[group];
        var d = new double[group];
        for (int row = 0; row < rows; row++)
        {
            for (int g = 0; g < cols / group; g++)
            {
                var values = w.AsSpan((row * cols) + (g * group), group);
                double storedScale = Fp16.ToDouble(q.Scales[(row * (cols / group)) + g]);
                int storedZero = info.Symmetric ? symZero : Reference.Zero(q.Zeros, info.Bits, cols / group, g, row);
                double best = double.PositiveInfinity, kept = double.PositiveInfinity;
                for (int step = 0; step <= steps; step++)
                {
                    double alpha = 1 - (0.5 * step / steps), lo = 0, hi = 0, absMax = 0;
                    foreach (float v in values)
                    {
                        lo = Math.Min(lo, alpha * v);
                        hi = Math.Max(hi, alpha * v);
                        absMax = Math.Max(absMax, Math.Abs(alpha * v));
                    }

                    double scale = info.Symmetric ? Reference.HalfUp(absMax / (symZero - 1)) : Reference.HalfUp((hi - lo) / maxCode);
                    double inverse = scale == 0 ? 0 : 1 / scale;
                    int zero = info.Symmetric ? symZero : (int)Math.Clamp(Math.Round(-lo * inverse, MidpointRounding.AwayFromZero), 0, maxCode);
                    bool same = scale == storedScale && zero == storedZero;
                    for (int i = 0; i < group; i++)
                    {
                        codes[i] = (int)Math.Clamp(Math.Round(values[i] * inverse, MidpointRounding.AwayFromZero) + zero, lowest, highest);
                        d[i] = values[i] - (scale * (codes[i] - zero));
                        same &= codes[i] == q.GetCode(row, (g * group) + i);
                    }

                    double loss = 0;
                    for (int n = 0; n < count; n++)
                    {
                        double e = 0;
                        for (int i = 0; i < group; i++)
                        {
                            e += x[(n * cols) + (g * group) + i] * d[i];
                        }

                        loss += e * e;
                    }

                    best = Math.Min(best, loss);
                    if (same)
                    {
                        kept = Math.Min(kept, loss);
                    }
                }

                Assert.True(kept <= best * (1 + 1e-9), TestData.Describe(
                    $"{info.Name}: row {row} group {g} kept a range scoring {kept:E6} (∞: no candidate's codes), the best candidate scores {best:E6}"));
            }
        }
    }

    private static float[] Trim(float[] full, int padded, int rows, int cols)
    {
        var trimmed = new float[rows * cols];
        for (int r = 0; r < rows; r++)
        {
            Array.Copy(full, r * padded, trimmed, r * cols, cols);
        }

        return trimmed;
    }

    private static double[] Softmax(float[] logits)
    {
        double max = logits.Max();
        var e = logits.Select(v => Math.Exp(v - max)).ToArray();
        double sum = e.Sum();
        return e.Select(v => v / sum).ToArray();
    }
}
