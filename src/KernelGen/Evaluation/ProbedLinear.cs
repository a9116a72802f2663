using System;
using KernelGen.Layers;

namespace KernelGen.Evaluation;

/// <summary>
/// A linear layer under test that also runs its full-precision original on the same input and accumulates the
/// relative output error ‖y − y_ref‖ / ‖y_ref‖ over every call: per-layer error in the context of the compressed
/// model's own activations. Returns the layer under test's output, so the model runs as it would unprobed.
/// </summary>
public sealed class ProbedLinear : ILinearLayer
{
    private readonly ILinearLayer inner;
    private readonly ILinearLayer reference;
    private readonly float[] expected;
    private double errorSquared;
    private double referenceSquared;

    /// <summary>Wraps <paramref name="inner"/>; <paramref name="reference"/> is the float layer it approximates.</summary>
    public ProbedLinear(string name, ILinearLayer inner, ILinearLayer reference)
    {
        ArgumentNullException.ThrowIfNull(inner);
        ArgumentNullException.ThrowIfNull(reference);
        if (inner.InFeatures != reference.InFeatures || inner.OutFeatures != reference.OutFeatures)
        {
            throw new ArgumentException($"{name}: the layer is [{inner.OutFeatures} × {inner.InFeatures}] but its reference is [{reference.OutFeatures} × {reference.InFeatures}].");
        }

        Name = name;
        this.inner = inner;
        this.reference = reference;
        expected = new float[reference.OutFeatures];
    }

    /// <summary>The projection's name ("blk.0.attn_q", …).</summary>
    public string Name { get; }

    /// <inheritdoc />
    public int InFeatures => inner.InFeatures;

    /// <inheritdoc />
    public int OutFeatures => inner.OutFeatures;

    /// <summary>Calls so far.</summary>
    public long Calls { get; private set; }

    /// <summary>‖Y − Y_ref‖_F / ‖Y_ref‖_F over every call so far (0 before any).</summary>
    public double RelativeError => referenceSquared > 0 ? Math.Sqrt(errorSquared / referenceSquared) : 0;

    /// <inheritdoc />
    public void Forward(ReadOnlySpan<float> x, Span<float> y)
    {
        inner.Forward(x, y);
        reference.Forward(x, expected);
        for (int i = 0; i < expected.Length; i++)
        {
            double d = y[i] - (double)expected[i];
            errorSquared += d * d;
            referenceSquared += expected[i] * (double)expected[i];
        }

        Calls++;
    }

    /// <inheritdoc />
    public void Dispose()
    {
        inner.Dispose();
        reference.Dispose();
    }
}
