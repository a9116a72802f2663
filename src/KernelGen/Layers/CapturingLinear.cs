using System;

namespace KernelGen.Layers;

/// <summary>
/// Wraps a linear layer and accumulates, over every input it sees, what calibrated quantizers need: the Hessian
/// proxy XᵀX (GPTQ; in × in, float64) and the mean |x| per input channel (AWQ), without keeping the activations.
/// </summary>
public sealed class CapturingLinear : ILinearLayer
{
    /// <summary>Inputs buffered before they are added to XᵀX: one pass over the in × in matrix per batch instead of
    /// per input (the matrix is 19 MB at in = 1536; a row stays in cache while the batch's terms are added to it).</summary>
    private const int Batch = 64;

    private readonly ILinearLayer inner;
    private readonly double[]? hessian;
    private readonly double[]? pending;
    private int pendingRows;
    private bool mirrored = true;

    /// <summary>Wraps <paramref name="inner"/>.</summary>
    /// <param name="inner">The layer whose inputs are captured.</param>
    /// <param name="hessian">Accumulate XᵀX (GPTQ needs it, AWQ does not: without it, capture costs O(in) per input
    /// instead of O(in²)).</param>
    public CapturingLinear(ILinearLayer inner, bool hessian = true)
    {
        this.inner = inner ?? throw new ArgumentNullException(nameof(inner));
        int n = inner.InFeatures;
        if (hessian)
        {
            this.hessian = new double[(long)n * n];
            pending = new double[Batch * n];
        }

        MeanAbsolute = new double[n];
    }

    /// <inheritdoc />
    public int InFeatures => inner.InFeatures;

    /// <inheritdoc />
    public int OutFeatures => inner.OutFeatures;

    /// <summary>Σ x xᵀ over the inputs seen (row-major, in × in).</summary>
    /// <exception cref="InvalidOperationException">The capture was created without it.</exception>
    public double[] Hessian
    {
        get
        {
            if (hessian is null)
            {
                throw new InvalidOperationException("This capture was created with hessian: false; create it with hessian: true for GPTQ.");
            }

            Flush();
            if (!mirrored)
            {
                // Only the lower triangle is accumulated; the matrix is symmetric.
                int n = InFeatures;
                for (int i = 0; i < n; i++)
                {
                    for (int j = 0; j < i; j++)
                    {
                        hessian[(j * n) + i] = hessian[(i * n) + j];
                    }
                }

                mirrored = true;
            }

            return hessian;
        }
    }

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

    /// <inheritdoc />
    public void Forward(ReadOnlySpan<float> x, Span<float> y)
    {
        int n = InFeatures;
        for (int i = 0; i < n; i++)
        {
            MeanAbsolute[i] += Math.Abs(x[i]);
        }

        if (pending is not null)
        {
            var row = pending.AsSpan(pendingRows * n, n);
            for (int i = 0; i < n; i++)
            {
                row[i] = x[i];
            }

            if (++pendingRows == Batch)
            {
                Flush();
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

    /// <summary>Adds the buffered inputs' x xᵀ to the lower triangle, row by row.</summary>
    private void Flush()
    {
        if (pendingRows == 0)
        {
            return;
        }

        int n = InFeatures;
        for (int i = 0; i < n; i++)
        {
            var target = hessian.AsSpan(i * n, i + 1);
            for (int b = 0; b < pendingRows; b++)
            {
                double xi = pending![(b * n) + i];
                if (xi != 0)
                {
                    Quantization.VectorMath.AddScaled(target, xi, pending.AsSpan(b * n, i + 1)); // row i += xi · x
                }
            }
        }

        pendingRows = 0;
        mirrored = false;
    }
}
