using System;

namespace KernelGen.Layers;

/// <summary>
/// Wraps a linear layer and accumulates, over every input it sees, what calibrated quantizers need: the Hessian
/// proxy XᵀX (GPTQ; in × in, float64) and the mean |x| per input channel (AWQ), without keeping the activations.
/// </summary>
public sealed class CapturingLinear : ILinearLayer
{
    private readonly ILinearLayer inner;

    /// <summary>Wraps <paramref name="inner"/>.</summary>
    public CapturingLinear(ILinearLayer inner)
    {
        this.inner = inner ?? throw new ArgumentNullException(nameof(inner));
        Hessian = new double[(long)inner.InFeatures * inner.InFeatures];
        MeanAbsolute = new double[inner.InFeatures];
    }

    /// <inheritdoc />
    public int InFeatures => inner.InFeatures;

    /// <inheritdoc />
    public int OutFeatures => inner.OutFeatures;

    /// <summary>Σ x xᵀ over the inputs seen (row-major, in × in).</summary>
    public double[] Hessian { get; }

    /// <summary>Σ |x| per input channel (divide by <see cref="Samples"/> for the mean).</summary>
    public double[] MeanAbsolute { get; }

    /// <summary>Inputs seen.</summary>
    public long Samples { get; private set; }

    /// <inheritdoc />
    public void Forward(ReadOnlySpan<float> x, Span<float> y)
    {
        int n = InFeatures;
        for (int i = 0; i < n; i++)
        {
            double xi = x[i];
            MeanAbsolute[i] += Math.Abs(xi);
            var row = Hessian.AsSpan(i * n, n);
            for (int j = 0; j < n; j++)
            {
                row[j] += xi * x[j];
            }
        }

        Samples++;
        inner.Forward(x, y);
    }

    /// <inheritdoc />
    public void Dispose() => inner.Dispose();
}
