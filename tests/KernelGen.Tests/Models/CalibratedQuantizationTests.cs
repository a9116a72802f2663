using System;
using System.Collections.Generic;
using System.Linq;
using KernelGen.Formats.Llama2C;
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
            data.Compare<B4G32A>(() => LlamaQuantizer.Dequantized(data.Weights, LlamaQuantizer.Awq<B4G32A>(data.Weights, data.Calibration))),
            data.Compare<B3G32A>(() => LlamaQuantizer.Dequantized(data.Weights, LlamaQuantizer.Awq<B3G32A>(data.Weights, data.Calibration))),
        })
        {
            output.WriteLine($"{name}: mean KL RTN {rtn:E3}, AWQ {awq:E3} ({100 * (1 - (awq / rtn)):F0}% lower)");
            Assert.True(awq < rtn, $"{name}: AWQ mean KL {awq:E3} is not below RTN's {rtn:E3}");
        }
    }

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
