// QuickStart: declare schemes (Schemes.cs), quantize a random layer with each, run it on the default device
// (KERNELGEN_DEVICE=cpu|opencl|cuda|auto), and compare with the float32 layer.
using System;
using System.Diagnostics;
using KernelGen;
using KernelGen.Backends;
using KernelGen.Layers;
using KernelGen.Quantization;
using QuickStart;

const int N = 1024, K = 1024, Repeats = 10;
var random = new Random(20261125);
var weights = new float[N * K];
for (int i = 0; i < weights.Length; i++)
{
    weights[i] = (float)(NextGaussian(random) * 0.02); // the scale of a trained transformer's weights
}

var x = new float[K];
for (int i = 0; i < K; i++)
{
    x[i] = (float)NextGaussian(random);
}

var reference = MatVec(weights, x, N, K);

using var device = ComputeDevice.FromEnvironment();
Console.WriteLine($"KernelGen QuickStart: a {N} × {K} linear layer, y = W·x");
Console.WriteLine($"device  {device}");
Console.WriteLine();
Console.WriteLine($"{"scheme",-14} {"bits/weight",11} {"vs fp16",8} {"max |w-w'|",11} {"rel. output err",16} {"GEMV time",11}");
Run<Q4G128>();
Run<Q3G64Sym>();
Run<Q8PerChannel>();
Console.WriteLine();
Console.WriteLine("rel. output err = ‖y_quant − y_fp32‖ / ‖y_fp32‖; time = median of " + Repeats + " GEMVs after warm-up on the device above.");

void Run<TScheme>()
    where TScheme : struct, IQuantScheme
{
    var quantized = QuantizedMatrix<TScheme>.Quantize(weights, N, K);
    var dequantized = quantized.Dequantize();
    double maxError = 0;
    for (int i = 0; i < weights.Length; i++)
    {
        maxError = Math.Max(maxError, Math.Abs(weights[i] - dequantized[i]));
    }

    using var layer = new QuantLinear<TScheme>(device, quantized);
    using var input = KernelGen.Tensors.DeviceTensor.FromHost(device, x, 1, K);
    using var output = KernelGen.Tensors.DeviceTensor.Allocate(device, 1, N);
    layer.Forward(input, output); // warm-up: compiles the kernels once
    device.Accelerator.Synchronize();
    var times = new double[Repeats];
    for (int r = 0; r < Repeats; r++)
    {
        long start = Stopwatch.GetTimestamp();
        layer.Forward(input, output);
        device.Accelerator.Synchronize();
        times[r] = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
    }

    Array.Sort(times);
    var y = output.ToHost();
    double diff = 0, norm = 0;
    for (int i = 0; i < N; i++)
    {
        diff += (y[i] - reference[i]) * (y[i] - reference[i]);
        norm += reference[i] * reference[i];
    }

    double bits = quantized.BitsPerWeight;
    Console.WriteLine($"{TScheme.Info.Name,-14} {bits,11:F3} {16 / bits,7:F2}x {maxError,11:E2} {Math.Sqrt(diff / norm),16:E2} {times[Repeats / 2],8:F3} ms");
}

static double[] MatVec(float[] w, float[] v, int rows, int cols)
{
    var y = new double[rows];
    for (int r = 0; r < rows; r++)
    {
        double sum = 0;
        for (int k = 0; k < cols; k++)
        {
            sum += (double)w[(r * cols) + k] * v[k];
        }

        y[r] = sum;
    }

    return y;
}

static double NextGaussian(Random random)
{
    double u1 = 1.0 - random.NextDouble();
    double u2 = random.NextDouble();
    return Math.Sqrt(-2.0 * Math.Log(u1)) * Math.Cos(2.0 * Math.PI * u2);
}
