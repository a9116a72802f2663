using System;
using System.Linq;
using KernelGen.Backends;
using KernelGen.Layers;
using KernelGen.Quantization;

namespace KernelGen.Cli.Bench;

/// <summary>
/// What <see cref="CheckedLinear{TScheme}"/> found over one model's projections: the worst ‖y − y_ref‖ ÷ ‖y_ref‖ ÷ the
/// kernel's tolerance (&gt; 1 fails), the projection it was seen on, and how many forwards were checked.
/// </summary>
internal sealed class ProjectionCheck
{
    /// <summary>Whether forwards are checked now (the untimed steps only: the check is host work).</summary>
    public bool Enabled { get; set; }

    /// <summary>The worst relative error seen ÷ its kernel's tolerance.</summary>
    public double WorstRatio { get; private set; }

    /// <summary>The worst relative error seen.</summary>
    public double WorstError { get; private set; }

    /// <summary>Where <see cref="WorstError"/> was seen: the projection, its kernel and the step.</summary>
    public string WorstAt { get; private set; } = "nothing checked";

    /// <summary>How many forwards were checked.</summary>
    public int Forwards { get; private set; }

    public void Record(double error, double tolerance, string at)
    {
        Forwards++;
        double ratio = double.IsFinite(error) ? error / tolerance : double.PositiveInfinity;
        if (ratio >= WorstRatio)
        {
            (WorstRatio, WorstError, WorstAt) = (ratio, error, at);
        }
    }
}

/// <summary>
/// A <see cref="QuantizedLinear{TScheme}"/> whose forwards, while <see cref="ProjectionCheck.Enabled"/>, are checked on
/// 64 sampled outputs against float64 over the x its kernel documents reading (rounded to int8 per 128 columns where
/// the layer quantizes activations, as it does on the host or the device): the decode bench's teacher-forced check,
/// which holds however the model amplifies differences between steps. Stacks as the layer it wraps does.
/// </summary>
internal sealed class CheckedLinear<TScheme> : IRowStackable
    where TScheme : struct, IQuantScheme
{
    private readonly QuantizedLinear<TScheme> inner;
    private readonly string name;
    private readonly ProjectionCheck check;
    private readonly int[] rows;
    private double[][]? w;
    private int step;

    public CheckedLinear(QuantizedLinear<TScheme> inner, string name, ProjectionCheck check)
    {
        this.inner = inner;
        this.name = name;
        this.check = check;
        rows = Float64Rows.Sample(inner.OutFeatures);
    }

    public int InFeatures => inner.InFeatures;

    public int OutFeatures => inner.OutFeatures;

    public void Forward(ReadOnlySpan<float> x, Span<float> y)
    {
        inner.Forward(x, y);
        if (check.Enabled)
        {
            Check(x, y);
        }

        step++;
    }

    public ILinearLayer? TryStackRows(ReadOnlySpan<ILinearLayer> others)
    {
        var parts = new ILinearLayer[others.Length];
        var names = name;
        for (int i = 0; i < others.Length; i++)
        {
            if (others[i] is not CheckedLinear<TScheme> other)
            {
                return null;
            }

            parts[i] = other.inner;
            names += "|" + other.name;
        }

        return inner.TryStackRows(parts) is QuantizedLinear<TScheme> stacked ? new CheckedLinear<TScheme>(stacked, names, check) : null;
    }

    public void Dispose() => inner.Dispose();

    private void Check(ReadOnlySpan<float> x, ReadOnlySpan<float> y)
    {
        var kernel = inner.DecodeKernel;
        var read = new float[inner.PaddedInFeatures]; // zero padding, as the layer stages x
        x[..InFeatures].CopyTo(read);
        if (inner.QuantizeActivations)
        {
            Int8ActivationGemv.RoundActivations(read);
        }

        w ??= rows.Select(row => Float64Rows.Dequantize(inner.Weights, row)).ToArray();
        double diff = 0, norm = 0;
        for (int r = 0; r < rows.Length; r++)
        {
            double expected = 0;
            for (int i = 0; i < read.Length; i++)
            {
                expected += w[r][i] * read[i];
            }

            double d = y[rows[r]] - expected;
            diff += d * d;
            norm += expected * expected;
        }

        double error = double.IsFinite(diff) ? Math.Sqrt(diff / norm) : double.PositiveInfinity;
        check.Record(error, Float64Rows.Tolerance(kernel), FormattableString.Invariant($"{name} [{kernel}] step {step}"));
    }
}
