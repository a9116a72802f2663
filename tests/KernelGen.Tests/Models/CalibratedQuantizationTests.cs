using System;
using System.Collections.Generic;
using System.Linq;
using KernelGen.Formats.Gguf;
using KernelGen.Formats.Llama2C;
using System.IO;
using KernelGen.Models;
using KernelGen.Quantization;
using Xunit;
using Xunit.Abstractions;

namespace KernelGen.Tests.Models;

/// <summary>
/// GPTQ on stories260K. Calibration text: stories the float model writes at temperature 1 (seed 7); evaluation
/// text: other stories it writes (seed 1234) plus the README's sentence, so the two never overlap. No text ships
/// with the model, which the issue allows for the decoder.
/// </summary>
[Collection(DeviceCollection.Name)]
public sealed class CalibratedQuantizationTests
{
    private readonly DeviceFixture devices;
    private readonly ITestOutputHelper output;

    public CalibratedQuantizationTests(DeviceFixture devices, ITestOutputHelper output)
    {
        this.devices = devices;
        this.output = output;
    }

    [ModelFact]
    public void Gptq_CutsMeanKlAgainstRoundToNearest_At4And3Bits()
    {
        var data = EvaluationData.Create();
        foreach (var (name, rtn, gptq) in new[]
        {
            data.Compare<B4G32A>(() => LlamaQuantizer.Dequantized(data.Weights, LlamaQuantizer.Gptq<B4G32A>(data.Weights, data.Calibration))),
            data.Compare<B3G32A>(() => LlamaQuantizer.Dequantized(data.Weights, LlamaQuantizer.Gptq<B3G32A>(data.Weights, data.Calibration))),
        })
        {
            output.WriteLine($"{name}: mean KL RTN {rtn:E3}, GPTQ {gptq:E3} ({100 * (1 - (gptq / rtn)):F0}% lower)");
            Assert.True(gptq <= 0.9 * rtn, $"{name}: GPTQ mean KL {gptq:E3} is not 10% below RTN's {rtn:E3}");
        }
    }

    [ModelFact]
    public void Awq_CutsMeanKlAgainstRoundToNearest_At4And3Bits()
    {
        var data = EvaluationData.Create();
        foreach (var (name, rtn, awq) in new[]
        {
            data.Compare<B4G32A>(() => Folded(LlamaQuantizer.Awq<B4G32A>(data.Weights, data.Calibration))),
            data.Compare<B3G32A>(() => Folded(LlamaQuantizer.Awq<B3G32A>(data.Weights, data.Calibration))),
        })
        {
            output.WriteLine($"{name}: mean KL RTN {rtn:E3}, AWQ (folded) {awq:E3} ({100 * (1 - (awq / rtn)):F0}% lower)");
            Assert.True(awq <= 0.9 * rtn, $"{name}: AWQ mean KL {awq:E3} is not 10% below RTN's {rtn:E3}");
        }
    }

    [ModelFact]
    public void AwqFolding_KeepsTheFloatModelsFunction_AndAlphaZeroIsRoundToNearest()
    {
        var weights = Llama2CCheckpoint.Load(ModelFiles.Checkpoint);
        var tokenizer = Llama2CTokenizer.Load(ModelFiles.Tokenizer, 512);
        using var dense = LlamaModel.CreateDense(weights);
        var calibration = Stories(dense, tokenizer, seed: 11, count: 2).Cast<IReadOnlyList<int>>().ToList();

        // The searched scales, folded into the float model: the same logits (float rounding aside).
        var awq = LlamaQuantizer.Awq<B4G32A>(weights, calibration);
        Assert.Contains(awq.Alphas.Values, a => a > 0); // something was scaled
        Assert.NotEqual(weights.RmsAttention, awq.Folded.RmsAttention);
        using var folded = LlamaModel.CreateDense(awq.Folded);
        var tokens = tokenizer.Encode("Once upon a time, there was a little girl named Lily.", true, false);
        for (int pos = 0; pos < tokens.Count; pos++)
        {
            var a = dense.Forward(tokens[pos], pos).ToArray();
            var b = folded.Forward(tokens[pos], pos).ToArray();
            double scale = a.Max(Math.Abs), worst = a.Zip(b, (x, y) => Math.Abs(x - y)).Max();
            Assert.True(worst <= 1e-4 * scale, $"position {pos}: folding changed a logit by {worst:E2} (largest {scale:E2})");
        }

        // α = 0 in the paper's form gives s = 1: nothing folded, and the codes are round-to-nearest's.
        var zero = LlamaQuantizer.Awq<B4G32A>(weights, calibration, clipSearch: false, grid: [0.0], weightAware: false);
        var rtn = LlamaQuantizer.Rtn<B4G32A>(weights);
        Assert.Equal(weights.RmsFfn, zero.Folded.RmsFfn);
        foreach (var (name, matrix) in rtn)
        {
            Assert.Equal(matrix.Packed, zero.Quantized[name].Packed);
            Assert.Equal(matrix.Scales, zero.Quantized[name].Scales);
            Assert.Equal(matrix.Zeros, zero.Quantized[name].Zeros);
        }
    }

    [ModelFact]
    public void AwqScales_ThatDifferBetweenHeadsSharingAKvHead_AreRefused()
    {
        var weights = Llama2CCheckpoint.Load(ModelFiles.Checkpoint);
        int layers = weights.Config.Layers, d = weights.Config.Dim;
        var output = Enumerable.Range(0, d).Select(i => 1f + (i * 0.01f)).ToArray(); // head 0 and head 1 share kv head 0
        var scales = new AwqScales(new float[]?[layers], [output, null, null, null, null], new float[]?[layers], new float[]?[layers]);
        var error = Assert.Throws<ArgumentException>(() => LlamaQuantizer.Fold(weights, scales));
        Assert.Contains("blk.0.attn_output differ between query heads that share kv head 0", error.Message);
    }

    [ModelFact]
    public void AwqGguf_HoldsTheFoldedNormsAndScales_AndBeatsRoundToNearest()
    {
        var original = GgufFile.Load(ModelFiles.Gguf);
        var weights = GgufLlama.LoadWeights(original);
        var tokenizer = Llama2CTokenizer.Load(ModelFiles.Tokenizer, 512);
        using var dense = LlamaModel.CreateDense(weights);
        var calibration = Stories(dense, tokenizer, seed: 7, count: 8).Cast<IReadOnlyList<int>>().ToList();
        var evaluation = Stories(dense, tokenizer, seed: 1234, count: 2);
        var directory = Directory.CreateTempSubdirectory("kernelgen-awq-").FullName;
        try
        {
            string rtnPath = Path.Combine(directory, "rtn.gguf"), awqPath = Path.Combine(directory, "awq.gguf");
            GgufQuantizer.Quantize(original, rtnPath, GgmlType.Q4_0);
            var quantized = GgufQuantizer.Quantize(original, awqPath, GgmlType.Q4_0, GgufQuantizer.QuantizeMethod.Awq, calibration);
            Assert.Equal(5 * 6, quantized.Count);

            var file = GgufFile.Load(awqPath);
            Assert.Equal(GgmlType.Q4_0, file.Tensor("blk.0.attn_v.weight").Type);
            var scales = GgufQuantizer.ReadAwqScales(file, weights.Config.Layers);
            Assert.NotNull(scales);
            Assert.Null(GgufQuantizer.ReadAwqScales(GgufFile.Load(rtnPath), weights.Config.Layers));
            Assert.All(scales!.FfnDown, Assert.Null); // FFN down (K = 172) stays F32, so nothing is scaled for it

            // The file's norms are the base model's with the recorded scales folded in.
            var loaded = GgufLlama.LoadWeights(file);
            var refolded = LlamaQuantizer.Fold(weights, scales);
            Assert.Equal(refolded.RmsAttention, loaded.RmsAttention);
            Assert.Equal(refolded.RmsFfn, loaded.RmsFfn);
            Assert.Equal(weights.W2, loaded.W2);

            double Kl(string path)
            {
                using var model = LlamaModel.CreateDense(GgufLlama.LoadWeights(GgufFile.Load(path)));
                double total = 0;
                int count = 0;
                foreach (var sequence in evaluation)
                {
                    var baseline = Logits(dense, sequence);
                    var logits = Logits(model, sequence);
                    for (int pos = 0; pos < logits.Length; pos++, count++)
                    {
                        total += Reference.KlDivergence(baseline[pos], logits[pos]);
                    }
                }

                return total / count;
            }

            double rtn = Kl(rtnPath), awq = Kl(awqPath);
            output.WriteLine($"Q4_0 GGUF: mean KL RTN {rtn:E3}, AWQ {awq:E3} ({100 * (1 - (awq / rtn)):F0}% lower)");
            Assert.True(awq <= 0.9 * rtn, $"AWQ Q4_0 mean KL {awq:E3} is not 10% below RTN's {rtn:E3}");
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    private static LlamaModel Folded<TScheme>(AwqModel<TScheme> awq)
        where TScheme : struct, IQuantScheme
        => LlamaQuantizer.Dequantized(awq.Folded, awq.Quantized);

    [ModelFact]
    public void GptqModel_OnTheDevice_EqualsItsDequantizedWeights()
    {
        var weights = Llama2CCheckpoint.Load(ModelFiles.Checkpoint);
        var tokenizer = Llama2CTokenizer.Load(ModelFiles.Tokenizer, 512);
        using var dense = LlamaModel.CreateDense(weights);
        var quantized = LlamaQuantizer.Gptq<B4G32A>(weights, Stories(dense, tokenizer, 7, 2).Cast<IReadOnlyList<int>>().ToList());
        using var host = LlamaQuantizer.Dequantized(weights, quantized);
        using var device = LlamaQuantizer.OnDevice(weights, quantized, devices.Cpu);
        var tokens = tokenizer.Encode("Once upon a time", true, false);
        for (int pos = 0; pos < tokens.Count; pos++)
        {
            var a = host.Forward(tokens[pos], pos).ToArray();
            var b = device.Forward(tokens[pos], pos).ToArray();
            double worst = a.Zip(b, (x, y) => Math.Abs(x - y)).Max();
            Assert.True(worst < 1e-3, $"position {pos}: max |Δlogit| {worst:E2} between device kernels and dequantized weights");
        }
    }

    /// <summary>The float model, calibration stories (seed 7), evaluation text (seed 1234 stories and the README
    /// sentence) and the float model's distributions on it.</summary>
    private sealed record EvaluationData(LlamaWeights Weights, List<IReadOnlyList<int>> Calibration, List<List<int>> Evaluation, List<double[][]> Baseline)
    {
        public static EvaluationData Create()
        {
            var weights = Llama2CCheckpoint.Load(ModelFiles.Checkpoint);
            var tokenizer = Llama2CTokenizer.Load(ModelFiles.Tokenizer, 512);
            using var dense = LlamaModel.CreateDense(weights);
            var calibration = Stories(dense, tokenizer, seed: 7, count: 8).Cast<IReadOnlyList<int>>().ToList();
            var evaluation = Stories(dense, tokenizer, seed: 1234, count: 3);
            evaluation.Add(tokenizer.Encode("Once upon a time, there was a little girl named Lily. She loved to play outside.", true, false));
            return new EvaluationData(weights, calibration, evaluation, evaluation.Select(sequence => Logits(dense, sequence)).ToList());
        }

        /// <summary>Mean KL from the float model of RTN and of the calibrated model <paramref name="calibrated"/> builds.</summary>
        public (string Name, double Rtn, double Calibrated) Compare<TScheme>(Func<LlamaModel> calibrated)
            where TScheme : struct, IQuantScheme
            => (TScheme.Info.ToString(), MeanKl(LlamaQuantizer.Dequantized(Weights, LlamaQuantizer.Rtn<TScheme>(Weights))), MeanKl(calibrated()));

        private double MeanKl(LlamaModel model)
        {
            using (model)
            {
                double total = 0;
                int count = 0;
                for (int s = 0; s < Evaluation.Count; s++)
                {
                    var logits = Logits(model, Evaluation[s]);
                    for (int pos = 0; pos < logits.Length; pos++)
                    {
                        total += Reference.KlDivergence(Baseline[s][pos], logits[pos]);
                        count++;
                    }
                }

                return total / count;
            }
        }
    }

    private static double[][] Logits(LlamaModel model, IReadOnlyList<int> tokens)
        => tokens.Select((t, pos) => Reference.Softmax(model.Forward(t, pos))).ToArray();

    private static List<List<int>> Stories(LlamaModel model, Llama2CTokenizer tokenizer, int seed, int count)
    {
        var sampler = new Sampler(512, temperature: 1f, topP: 1f, seed: seed);
        return Enumerable.Range(0, count).Select(_ => TextGenerator.Generate(model, tokenizer, string.Empty, 160, sampler)).ToList();
    }
}
