using System;
using System.Threading.Tasks;
using BenchmarkDotNet.Attributes;
using KernelGen.Backends;
using KernelGen.Layers;
using KernelGen.Quantization;
using KernelGen.Tensors;

namespace KernelGen.Benchmarks;

[QuantScheme(Bits = 4, GroupSize = 128)]
public partial struct Q4G128;

[QuantScheme(Bits = 4, GroupSize = 128, Symmetric = true)]
public partial struct Q4G128Sym;

[QuantScheme(Bits = 3, GroupSize = 128)]
public partial struct Q3G128;

[QuantScheme(Bits = 8, GroupSize = QuantSchemeAttribute.PerChannel, Symmetric = true)]
public partial struct Q8PerChannel;

/// <summary>
/// One decode-step GEMV (y = W·x, W of N × K) per scheme on ILGPU's CPU accelerator, against the float32 baseline:
/// a plain C# loop over a dense weight matrix, parallel over rows as the CPU accelerator is. Ratios are against
/// that baseline in the same run. The CPU accelerator is the test backend (simulated GPU threads), not a fast
/// CPU path: these numbers say what the tests cost, and whether a generated change made it worse.
/// </summary>
[MemoryDiagnoser]
public class GemvBenchmarks
{
    private float[] weights = Array.Empty<float>();
    private float[] x = Array.Empty<float>();
    private float[] y = Array.Empty<float>();
    private ComputeDevice device = null!;
    private DeviceTensor input = null!;
    private DeviceTensor output = null!;
    private QuantLinear<Q4G128> q4 = null!;
    private QuantLinear<Q4G128Sym> q4Sym = null!;
    private QuantLinear<Q3G128> q3 = null!;
    private QuantLinear<Q8PerChannel> q8 = null!;

    [Params(1024, 4096)]
    public int Size { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        var random = new Random(42);
        weights = new float[Size * Size];
        for (int i = 0; i < weights.Length; i++)
        {
            weights[i] = (float)((random.NextDouble() - 0.5) * 0.1);
        }

        x = new float[Size];
        for (int i = 0; i < Size; i++)
        {
            x[i] = (float)(random.NextDouble() - 0.5);
        }

        y = new float[Size];
        device = ComputeDevice.Create(DeviceKind.Cpu);
        input = DeviceTensor.FromHost(device, x, 1, Size);
        output = DeviceTensor.Allocate(device, 1, Size);
        q4 = new QuantLinear<Q4G128>(device, QuantizedMatrix<Q4G128>.Quantize(weights, Size, Size));
        q4Sym = new QuantLinear<Q4G128Sym>(device, QuantizedMatrix<Q4G128Sym>.Quantize(weights, Size, Size));
        q3 = new QuantLinear<Q3G128>(device, QuantizedMatrix<Q3G128>.Quantize(weights, Size, Size));
        q8 = new QuantLinear<Q8PerChannel>(device, QuantizedMatrix<Q8PerChannel>.Quantize(weights, Size, Size));
    }

    [Benchmark(Baseline = true, Description = "float32 C# (Parallel.For)")]
    public float DenseFloat32()
    {
        int k = Size;
        Parallel.For(0, Size, row =>
        {
            float sum = 0;
            var w = weights.AsSpan(row * k, k);
            for (int i = 0; i < k; i++)
            {
                sum += w[i] * x[i];
            }

            y[row] = sum;
        });
        return y[0];
    }

    [Benchmark(Description = "Q4G128 asym (CPU accelerator)")]
    public void Q4G128Asym() => Run(q4);

    [Benchmark(Description = "Q4G128 sym (CPU accelerator)")]
    public void Q4G128Symmetric() => Run(q4Sym);

    [Benchmark(Description = "Q3G128 asym (CPU accelerator)")]
    public void Q3G128Asym() => Run(q3);

    [Benchmark(Description = "Q8 per-channel sym (CPU accelerator)")]
    public void Q8PerChannelSym() => Run(q8);

    private void Run<TScheme>(QuantLinear<TScheme> layer)
        where TScheme : struct, IQuantScheme
    {
        layer.Forward(input, output);
        device.Accelerator.Synchronize();
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        q4.Dispose();
        q4Sym.Dispose();
        q3.Dispose();
        q8.Dispose();
        input.Dispose();
        output.Dispose();
        device.Dispose();
    }
}
