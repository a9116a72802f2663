using System;

namespace KernelGen.Layers;

/// <summary>y = W·x for one activation row (decode): a dense or a quantized linear layer.</summary>
public interface ILinearLayer : IDisposable
{
    /// <summary>K.</summary>
    int InFeatures { get; }

    /// <summary>N.</summary>
    int OutFeatures { get; }

    /// <summary>Writes W·x to <paramref name="y"/>; x has K values, y has N.</summary>
    void Forward(ReadOnlySpan<float> x, Span<float> y);
}
