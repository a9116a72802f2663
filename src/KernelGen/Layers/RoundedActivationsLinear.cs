using System;
using KernelGen.Backends;

namespace KernelGen.Layers;

/// <summary>
/// A linear layer whose input is first rounded to int8 per 128 columns (<see cref="Int8ActivationGemv.RoundActivations"/>),
/// as decode with <see cref="QuantLinear{TScheme}.QuantizeActivations"/> rounds it on CUDA: what <c>kernelgen eval</c>
/// wraps each compressed projection in when KERNELGEN_INT8_X=1, so that the report shows what that rounding costs a
/// model on top of its weights' quantization.
/// </summary>
public sealed class RoundedActivationsLinear : ILinearLayer
{
    private readonly ILinearLayer inner;
    private readonly float[] rounded;

    /// <summary>Wraps <paramref name="inner"/> (disposed with this layer).</summary>
    public RoundedActivationsLinear(ILinearLayer inner)
    {
        ArgumentNullException.ThrowIfNull(inner);
        this.inner = inner;
        rounded = new float[inner.InFeatures];
    }

    /// <inheritdoc />
    public int InFeatures => inner.InFeatures;

    /// <inheritdoc />
    public int OutFeatures => inner.OutFeatures;

    /// <inheritdoc />
    public void Forward(ReadOnlySpan<float> x, Span<float> y)
    {
        x[..InFeatures].CopyTo(rounded);
        Int8ActivationGemv.RoundActivations(rounded);
        inner.Forward(rounded, y);
    }

    /// <inheritdoc />
    public void Dispose() => inner.Dispose();
}
