using System;
using ILGPU;
using ILGPU.Runtime;
using KernelGen.Backends;
using KernelGen.Quantization;
using KernelGen.Tensors;

namespace KernelGen.Layers;

/// <summary>
/// A linear layer with quantized weights: y[M, N] = x[M, K] · Wᵀ, W being N × K (out × in features). Runs the
/// tensor-core GEMV for M ≤ 16 and the tensor-core GEMM above on CUDA (see <see cref="UseTensorCores"/>), and
/// otherwise the scheme's generated GEMV (M = 1) and tiled GEMM. The packed weights live on the device, uploaded on the first batch in the
/// order its kernel reads: row-major for the generated float32 kernels, mma fragment order for the tensor-core ones
/// (a layer that only ever runs on tensor cores holds one copy).
/// </summary>
public sealed class QuantLinear<TScheme> : IDisposable
    where TScheme : struct, IQuantScheme
{
    private MemoryBuffer1D<uint, Stride1D.Dense>? packed;
    private MemoryBuffer1D<ushort, Stride1D.Dense>? scales;
    private MemoryBuffer1D<uint, Stride1D.Dense>? zeros;
    private readonly QuantKernels kernels;
    private MmaPackedWeights? mma;
    private MemoryBuffer1D<uint, Stride1D.Dense>? mmaPacked;
    private MemoryBuffer1D<uint, Stride1D.Dense>? mmaScales;
    private MemoryBuffer1D<uint, Stride1D.Dense>? mmaZeros;
    private MemoryBuffer1D<uint, Stride1D.Dense>? fragments;

    /// <summary>Loads the scheme's kernels on <paramref name="device"/>; <paramref name="weights"/> go to the device on
    /// the first batch, in the order its kernel reads.</summary>
    public QuantLinear(ComputeDevice device, QuantizedMatrix<TScheme> weights)
    {
        ArgumentNullException.ThrowIfNull(device);
        ArgumentNullException.ThrowIfNull(weights);
        Device = device;
        Weights = weights;
        kernels = device.GetKernels<TScheme>();
    }

    /// <summary>The row-major codes, scales and zero points the generated float32 kernels read, uploaded on first use.</summary>
    private (ArrayView<uint> Packed, ArrayView<ushort> Scales, ArrayView<uint> Zeros) RowMajor()
    {
        if (packed is null || scales is null || zeros is null)
        {
            var accelerator = Device.Accelerator;
            packed = accelerator.Allocate1D(Weights.Packed);
            scales = accelerator.Allocate1D(Weights.Scales);
            // Symmetric schemes store no zero points; kernels still take a (never read) view.
            zeros = Weights.Zeros.Length > 0 ? accelerator.Allocate1D(Weights.Zeros) : accelerator.Allocate1D<uint>(1);
        }

        return (packed.View, scales.View, zeros.View);
    }

    /// <summary>The device the layer runs on.</summary>
    public ComputeDevice Device { get; }

    /// <summary>The quantized weights (host copy).</summary>
    public QuantizedMatrix<TScheme> Weights { get; }

    /// <summary>
    /// Whether the layer runs on tensor cores where the device and scheme allow (CUDA; 2-, 3-, 4- or 8-bit codes), over a
    /// copy of the weights in mma fragment order made on the first such batch: M ≤ 16, decode (M = 1) included, by
    /// <see cref="TensorCoreGemv"/>, M &gt; 16 by <see cref="TensorCoreGemm"/>; both round x and each scaled weight to
    /// f16 (relative error ≤ 2^−11 each) and accumulate in f32. Default true; false forces the float32
    /// kernels (the benchmark's baselines): the GEMV for M = 1, the tiled GEMM above.
    /// </summary>
    public bool UseTensorCores { get; set; } = true;

    /// <summary>
    /// Whether decode (M = 1) and batches of up to 16 rows round x to int8 (one scale per 128 columns and row, |x|max / 127)
    /// and multiply on the integer tensor cores (<see cref="Int8ActivationGemv"/>) where the device and weights allow it and
    /// it measured faster (<see cref="Int8ActivationGemv.Pays"/>: CUDA; every batch and 2- and 3-bit decode everywhere,
    /// 4- and 8-bit decode on grids of more row blocks than SMs, 4-bit decode also on grids of at most one block per two
    /// SMs; 2-, 3-, 4- and 8-bit codes in groups of 64 times a power
    /// of two, or per channel); elsewhere
    /// the f16 kernels run, with x unrounded. Faster where the f16 kernels are bound by their work per weight, at the price of
    /// rounding x more coarsely: ~10^−3 relative error per output against f16's ~10^−4 (the bench's rel.err column
    /// shows it against float64). Default false, or true where KERNELGEN_INT8_X=1 (<see cref="QuantizeActivationsByDefault"/>:
    /// every layer of a model, without code).
    /// </summary>
    public bool QuantizeActivations { get; set; } = QuantizeActivationsByDefault;

    /// <summary>What <see cref="QuantizeActivations"/> starts as: true when the environment variable KERNELGEN_INT8_X is 1.</summary>
    public static bool QuantizeActivationsByDefault { get; } = Environment.GetEnvironmentVariable("KERNELGEN_INT8_X") == "1";

    /// <summary>The kernel <see cref="Forward(DeviceTensor, DeviceTensor)"/> runs for <paramref name="m"/> rows.</summary>
    public MatrixKernel KernelFor(int m)
    {
        bool tensorCores = UseTensorCores && Device.TensorCores is not null;
        if (tensorCores && QuantizeActivations && Device.Int8ActivationGemv is { } int8 && int8.Pays(TScheme.Info, Weights.Rows, Weights.Cols, m))
        {
            return MatrixKernel.Int8ActivationGemv;
        }

        if (tensorCores && m <= 16 && TensorCoreGemv.Supports(TScheme.Info, Weights.Cols))
        {
            return MatrixKernel.TensorCoreGemv;
        }

        if (m == 1)
        {
            return MatrixKernel.Gemv;
        }

        return tensorCores && m > 16 && TensorCoreGemm.Supports(TScheme.Info, Weights.Cols) ? MatrixKernel.TensorCoreGemm : MatrixKernel.TiledGemm;
    }

    /// <summary>K.</summary>
    public int InFeatures => Weights.Cols;

    /// <summary>N.</summary>
    public int OutFeatures => Weights.Rows;

    /// <summary>y = x · Wᵀ on device tensors: x is [M × K], y is [M × N].</summary>
    /// <exception cref="ArgumentException">A shape or device does not match; the message gives both.</exception>
    public void Forward(DeviceTensor x, DeviceTensor y)
    {
        ArgumentNullException.ThrowIfNull(x);
        ArgumentNullException.ThrowIfNull(y);
        CheckDevice(x, nameof(x));
        CheckDevice(y, nameof(y));
        if (x.Cols != InFeatures)
        {
            throw new ArgumentException(FormattableString.Invariant(
                $"x has shape {x.Shape} but this layer's weight is [{OutFeatures} × {InFeatures}]: x needs {InFeatures} columns (K)."), nameof(x));
        }

        if (y.Rows != x.Rows || y.Cols != OutFeatures)
        {
            throw new ArgumentException(FormattableString.Invariant(
                $"y has shape {y.Shape} but x {x.Shape} · Wᵀ [{InFeatures} × {OutFeatures}] is [{x.Rows} × {OutFeatures}]."), nameof(y));
        }

        var dims = Weights.Dims;
        switch (KernelFor(x.Rows))
        {
            case MatrixKernel.Gemv:
                var (gemvPacked, gemvScales, gemvZeros) = RowMajor();
                kernels.Gemv(Device.Accelerator, dims, gemvPacked, gemvScales, gemvZeros, x.View, y.View);
                break;
            case MatrixKernel.TensorCoreGemv:
                var fragmentOrder = FragmentOrder();
                Device.TensorCores!.Run(fragmentOrder, mmaPacked!.View, mmaScales!.View, mmaZeros!.View, x.View, Fragments(Device.TensorCores.FragmentLength(fragmentOrder, x.Rows)), y.View, x.Rows);
                break;
            case MatrixKernel.Int8ActivationGemv:
                var quantizedOrder = FragmentOrder();
                Device.Int8ActivationGemv!.Run(quantizedOrder, mmaPacked!.View, mmaScales!.View, mmaZeros!.View, x.View, Fragments(Int8ActivationGemv.ScratchLength(quantizedOrder, x.Rows)), y.View, x.Rows);
                break;
            case MatrixKernel.TensorCoreGemm:
                var order = FragmentOrder();
                Device.TensorCoreGemm!.Run(order, mmaPacked!.View, mmaScales!.View, mmaZeros!.View, x.View, Fragments(TensorCoreGemm.FragmentLength(order, x.Rows)), y.View, x.Rows);
                break;
            default:
                var (gemmPacked, gemmScales, gemmZeros) = RowMajor();
                kernels.Gemm(dims, gemmPacked, gemmScales, gemmZeros, x.View, y.View, x.Rows);
                break;
        }
    }

    /// <summary>The weights in mma fragment order (what both tensor-core kernels read), repacked and uploaded on the first
    /// batch that runs on tensor cores (a layer that only runs the float32 kernels never pays for the copy).</summary>
    private MmaPackedWeights FragmentOrder()
    {
        if (mma is null)
        {
            var repacked = MmaPackedWeights.Create(Weights);
            var accelerator = Device.Accelerator;
            mmaPacked = accelerator.Allocate1D(repacked.Packed);
            mmaScales = accelerator.Allocate1D(repacked.Scales);
            mmaZeros = repacked.Zeros.Length > 0 ? accelerator.Allocate1D(repacked.Zeros) : accelerator.Allocate1D<uint>(1);
            mma = repacked;
        }

        return mma;
    }

    /// <summary>The tensor-core kernels' f16 copy of x (B fragments): one buffer, grown to the largest batch seen.</summary>
    private ArrayView<uint> Fragments(long length)
    {
        if (fragments is null || fragments.Length < length)
        {
            fragments?.Dispose();
            fragments = Device.Accelerator.Allocate1D<uint>(Math.Max(length, 1)); // the GEMV needs none where it reads x in f32
        }

        return fragments.View;
    }

    /// <summary>y = x · Wᵀ for row-major host data x[M × K]; returns y[M × N]. Copies in and out of the device.</summary>
    public float[] Forward(ReadOnlySpan<float> x, int m)
    {
        if (m <= 0 || x.Length != (long)m * InFeatures)
        {
            throw new ArgumentException(FormattableString.Invariant(
                $"x has {x.Length} values, which is not [{m} × {InFeatures}] (M = {m} rows of K = {InFeatures}) for this [{OutFeatures} × {InFeatures}] weight."), nameof(x));
        }

        using var input = DeviceTensor.FromHost(Device, x, m, InFeatures);
        using var output = DeviceTensor.Allocate(Device, m, OutFeatures);
        Forward(input, output);
        return output.ToHost();
    }

    /// <summary>Dequantizes the weights on the device into a row-major N × K host array.</summary>
    public float[] DequantizeOnDevice()
    {
        using var output = Device.Accelerator.Allocate1D<float>((long)OutFeatures * InFeatures);
        var (codes, groupScales, zeroPoints) = RowMajor();
        kernels.Dequantize(Weights.Dims, codes, groupScales, zeroPoints, output.View);
        return output.GetAsArray1D();
    }

    private void CheckDevice(DeviceTensor tensor, string name)
    {
        if (!ReferenceEquals(tensor.Device, Device))
        {
            throw new ArgumentException($"{name} lives on {tensor.Device} but this layer runs on {Device}: create the tensor on the layer's device.", name);
        }
    }

    /// <inheritdoc />
    public void Dispose()
    {
        packed?.Dispose();
        scales?.Dispose();
        zeros?.Dispose();
        mmaPacked?.Dispose();
        mmaScales?.Dispose();
        mmaZeros?.Dispose();
        fragments?.Dispose();
    }
}

/// <summary>Which kernel a <see cref="QuantLinear{TScheme}"/> runs for a batch (<see cref="QuantLinear{TScheme}.KernelFor"/>).</summary>
public enum MatrixKernel
{
    /// <summary>M = 1: the scheme's generated GEMV.</summary>
    Gemv,

    /// <summary>The scheme's generated float32 tiled GEMM (no tensor cores).</summary>
    TiledGemm,

    /// <summary>2 ≤ M ≤ 16 on tensor cores over the weights in mma fragment order (<see cref="Backends.TensorCoreGemv"/>).</summary>
    TensorCoreGemv,

    /// <summary>M &gt; 16 on tensor cores (<see cref="Backends.TensorCoreGemm"/>).</summary>
    TensorCoreGemm,

    /// <summary>M = 1 to 16 with x rounded to int8, on the integer tensor cores (<see cref="Backends.Int8ActivationGemv"/>;
    /// <see cref="QuantLinear{TScheme}.QuantizeActivations"/>).</summary>
    Int8ActivationGemv,
}
