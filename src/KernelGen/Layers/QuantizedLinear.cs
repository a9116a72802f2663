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
public sealed class QuantizedLinear<TScheme> : ILinearLayer
    where TScheme : struct, IQuantScheme
{
    private readonly QuantLinear<TScheme> layer;
    private readonly DeviceTensor input;
    private readonly DeviceTensor output;
    private readonly float[] staging;

    /// <summary>Quantizes row-major (out, in) <paramref name="weights"/> and uploads them to <paramref name="device"/>.</summary>
    public QuantizedLinear(ComputeDevice device, ReadOnlySpan<float> weights, int outFeatures, int inFeatures)
    {
        ArgumentNullException.ThrowIfNull(device);
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

    /// <summary>The smallest K' ≥ <paramref name="cols"/> that the scheme accepts.</summary>
    public static int PaddedCols(QuantSchemeInfo scheme, int cols) => QuantDims.PaddedCols(scheme, cols);

    /// <inheritdoc />
    public void Forward(ReadOnlySpan<float> x, Span<float> y)
    {
        x[..InFeatures].CopyTo(staging); // the padding columns stay zero
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
