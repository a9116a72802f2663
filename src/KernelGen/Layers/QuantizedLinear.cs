using System;
using ILGPU;
using ILGPU.Runtime;
using KernelGen.Backends;
using KernelGen.Quantization;
using KernelGen.Tensors;

namespace KernelGen.Layers;

/// <summary>
/// A linear layer whose weights are quantized with <typeparamref name="TScheme"/> and live on a device. K is padded
/// with zero columns to what the scheme needs (a multiple of 32 and of its group size), so any layer shape works:
/// stories260K's FFN down projection has K = 172. Activations are staged in preallocated buffers: a forward pass
/// allocates nothing.
/// </summary>
public sealed class QuantizedLinear<TScheme> : IRowStackable
    where TScheme : struct, IQuantScheme
{
    private readonly ComputeDevice device;
    private readonly QuantLinear<TScheme> layer;
    private readonly DeviceTensor input;
    private readonly DeviceTensor output;
    private readonly float[] staging;

    /// <summary>Quantizes row-major (out, in) <paramref name="weights"/> and uploads them to <paramref name="device"/>.</summary>
    public QuantizedLinear(ComputeDevice device, ReadOnlySpan<float> weights, int outFeatures, int inFeatures)
    {
        ArgumentNullException.ThrowIfNull(device);
        this.device = device;
        if (weights.Length != (long)outFeatures * inFeatures)
        {
            throw new ArgumentException($"{weights.Length} weights do not fill a [{outFeatures} × {inFeatures}] matrix.", nameof(weights));
        }

        InFeatures = inFeatures;
        OutFeatures = outFeatures;
        PaddedInFeatures = PaddedCols(TScheme.Info, inFeatures);
        var padded = new float[(long)outFeatures * PaddedInFeatures];
        for (int row = 0; row < outFeatures; row++)
        {
            weights.Slice(row * inFeatures, inFeatures).CopyTo(padded.AsSpan(row * PaddedInFeatures, inFeatures));
        }

        Weights = QuantizedMatrix<TScheme>.Quantize(padded, outFeatures, PaddedInFeatures);
        layer = new QuantLinear<TScheme>(device, Weights);
        input = DeviceTensor.Allocate(device, 1, PaddedInFeatures);
        output = DeviceTensor.Allocate(device, 1, outFeatures);
        staging = new float[PaddedInFeatures];
    }

    /// <summary>Uploads already quantized weights (K padded as <see cref="PaddedCols"/> says) to <paramref name="device"/>.</summary>
    public QuantizedLinear(ComputeDevice device, QuantizedMatrix<TScheme> padded, int inFeatures)
    {
        ArgumentNullException.ThrowIfNull(device);
        ArgumentNullException.ThrowIfNull(padded);
        this.device = device;
        if (padded.Cols != PaddedCols(TScheme.Info, inFeatures))
        {
            throw new ArgumentException($"The matrix has {padded.Cols} columns but {inFeatures} input features pad to {PaddedCols(TScheme.Info, inFeatures)}.", nameof(padded));
        }

        InFeatures = inFeatures;
        OutFeatures = padded.Rows;
        PaddedInFeatures = padded.Cols;
        Weights = padded;
        layer = new QuantLinear<TScheme>(device, Weights);
        input = DeviceTensor.Allocate(device, 1, PaddedInFeatures);
        output = DeviceTensor.Allocate(device, 1, OutFeatures);
        staging = new float[PaddedInFeatures];
    }

    /// <inheritdoc />
    public int InFeatures { get; }

    /// <inheritdoc />
    public int OutFeatures { get; }

    /// <summary>K after padding with zero columns.</summary>
    public int PaddedInFeatures { get; }

    /// <summary>The quantized (padded) weights.</summary>
    public QuantizedMatrix<TScheme> Weights { get; }

    /// <summary>
    /// Whether x is rounded to int8 per 128 columns (<see cref="QuantLinear{TScheme}.QuantizeActivations"/>; default from
    /// KERNELGEN_INT8_X). On CUDA the 2-, 3-, 4- and 8-bit schemes run <see cref="Int8ActivationGemv"/> where it pays
    /// (<see cref="Int8ActivationGemv.Pays"/>); on every other device, and wherever it does not run, the layer rounds x the same way on the host and runs its usual kernel, so
    /// that <c>kernelgen eval</c> on any machine measures what the rounding costs a model.
    /// </summary>
    public bool QuantizeActivations
    {
        get => layer.QuantizeActivations;
        set => layer.QuantizeActivations = value;
    }

    /// <summary>The kernel one <see cref="Forward"/> runs (what <see cref="QuantLinear{TScheme}.KernelFor"/> picks for one row).</summary>
    public MatrixKernel DecodeKernel => layer.KernelFor(1);

    /// <summary>The smallest K' ≥ <paramref name="cols"/> that the scheme accepts.</summary>
    public static int PaddedCols(QuantSchemeInfo scheme, int cols) => QuantDims.PaddedCols(scheme, cols);

    /// <inheritdoc />
    /// <remarks>Stacks with other <see cref="QuantizedLinear{TScheme}"/> layers of the same device and input size; the
    /// new layer's weights are <see cref="QuantizedMatrix{TScheme}.ConcatRows"/> of theirs, so it computes exactly what
    /// the parts compute, row for row.</remarks>
    public ILinearLayer? TryStackRows(ReadOnlySpan<ILinearLayer> others)
    {
        var parts = new QuantizedMatrix<TScheme>[others.Length + 1];
        parts[0] = Weights;
        for (int i = 0; i < others.Length; i++)
        {
            if (others[i] is not QuantizedLinear<TScheme> other || other.device != device || other.InFeatures != InFeatures)
            {
                return null;
            }

            parts[i + 1] = other.Weights;
        }

        return new QuantizedLinear<TScheme>(device, QuantizedMatrix<TScheme>.ConcatRows(parts), InFeatures) { QuantizeActivations = QuantizeActivations };
    }

    /// <inheritdoc />
    public void Forward(ReadOnlySpan<float> x, Span<float> y)
    {
        x[..InFeatures].CopyTo(staging); // the padding columns stay zero
        if (layer.QuantizeActivations && DecodeKernel != MatrixKernel.Int8ActivationGemv)
        {
            Int8ActivationGemv.RoundActivations(staging); // what the int8-activation kernel does on the device
        }

        input.Buffer.View.AsContiguous().CopyFromCPU(staging);
        layer.Forward(input, output);
        output.Buffer.View.AsContiguous().CopyToCPU(y[..OutFeatures]);
    }

    /// <inheritdoc />
    public void Dispose()
    {
        layer.Dispose();
        input.Dispose();
        output.Dispose();
    }
}
