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

    /// <summary>Up to <see cref="SampleCapacity"/> of the inputs seen (every input until full), row-major.</summary>
    public float[] SampleRows { get; private set; } = Array.Empty<float>();

    /// <summary>Rows held in <see cref="SampleRows"/>.</summary>
    public int SampleCount { get; private set; }

    /// <summary>How many inputs are kept for quantizers that search on real activations (AWQ).</summary>
    public const int SampleCapacity = 512;

    private double[]? widened;

    /// <inheritdoc />
    public void Forward(ReadOnlySpan<float> x, Span<float> y)
    {
        int n = InFeatures;
        widened ??= new double[n];
        for (int i = 0; i < n; i++)
        {
            widened[i] = x[i];
        }

        for (int i = 0; i < n; i++)
        {
            double xi = widened[i];
            MeanAbsolute[i] += Math.Abs(xi);
            if (xi != 0)
            {
                Quantization.VectorMath.SubtractScaled(Hessian.AsSpan(i * n, n), -xi, widened); // row i += xi · x
            }
        }

        if (SampleCount < SampleCapacity)
        {
            if (SampleRows.Length == 0)
            {
                SampleRows = new float[SampleCapacity * n];
            }

            x[..n].CopyTo(SampleRows.AsSpan(SampleCount * n, n));
            SampleCount++;
        }

        Samples++;
        inner.Forward(x, y);
    }

    /// <inheritdoc />
    public void Dispose() => inner.Dispose();
}
