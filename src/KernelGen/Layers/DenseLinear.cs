using System;

namespace KernelGen.Layers;

/// <summary>A float32 linear layer on the host: W is row-major (out, in). The full-precision baseline.</summary>
public sealed class DenseLinear : ILinearLayer
{
    private readonly ReadOnlyMemory<float> weights;

    /// <summary>Wraps <paramref name="weights"/> (out · in floats, not copied).</summary>
    public DenseLinear(ReadOnlyMemory<float> weights, int outFeatures, int inFeatures)
    {
        if (weights.Length != (long)outFeatures * inFeatures)
        {
            throw new ArgumentException($"{weights.Length} weights do not fill a [{outFeatures} × {inFeatures}] matrix.", nameof(weights));
        }

        this.weights = weights;
        OutFeatures = outFeatures;
        InFeatures = inFeatures;
    }

    /// <inheritdoc />
    public int InFeatures { get; }

    /// <inheritdoc />
    public int OutFeatures { get; }

    /// <inheritdoc />
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
    public void Forward(ReadOnlySpan<float> x, Span<float> y)
    {
        var w = weights.Span;
        int k = InFeatures;
        x = x[..k];
        for (int i = 0; i < OutFeatures; i++)
        {
            y[i] = (float)Quantization.VectorMath.Dot(w.Slice(i * k, k), x);
        }
    }

    /// <inheritdoc />
    public void Dispose()
    {
    }
}
