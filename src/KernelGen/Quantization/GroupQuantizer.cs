using System;

namespace KernelGen.Quantization;

/// <summary>
/// The round-to-nearest math of every generated scheme (documented on <see cref="QuantSchemeAttribute"/>) for one
/// group at a time, for quantizers that choose group parameters as they go (GPTQ). Computes exactly what the
/// generated <c>QuantizeInto</c> computes: a test checks that GPTQ with an identity Hessian reproduces it bit for bit.
/// </summary>
public readonly struct GroupQuantizer
{
    private readonly int maxCode;
    private readonly bool symmetric;

    /// <summary>For a scheme's bit width and mode.</summary>
    public GroupQuantizer(QuantSchemeInfo scheme)
    {
        ArgumentNullException.ThrowIfNull(scheme);
        maxCode = (1 << scheme.Bits) - 1;
        symmetric = scheme.Symmetric;
        SymmetricZero = 1 << (scheme.Bits - 1);
    }

    /// <summary>2^(bits−1), the fixed zero of symmetric schemes.</summary>
    public int SymmetricZero { get; }

    /// <summary>Scale (as fp16 bits and value), its inverse and the zero point for a group's values.</summary>
    public (ushort ScaleBits, double Scale, double Inverse, int Zero) Parameters(ReadOnlySpan<double> group, int row, int groupIndex)
    {
        ushort bits;
        double lo = 0, hi = 0, absMax = 0;
        foreach (double v in group)
        {
            lo = Math.Min(lo, v);
            hi = Math.Max(hi, v);
            absMax = Math.Max(absMax, Math.Abs(v));
        }

        bits = symmetric ? Fp16.RoundUp(absMax / (SymmetricZero - 1), row, groupIndex) : Fp16.RoundUp((hi - lo) / maxCode, row, groupIndex);
        double scale = Fp16.ToDouble(bits);
        double inverse = scale == 0 ? 0 : 1.0 / scale;
        int zero = symmetric ? SymmetricZero : (int)Math.Clamp(Math.Round(-lo * inverse, MidpointRounding.AwayFromZero), 0, maxCode);
        return (bits, scale, inverse, zero);
    }

    /// <summary>The code of value <paramref name="w"/> under the given parameters.</summary>
    public byte Code(double w, double inverse, int zero)
    {
        double q = Math.Round(w * inverse, MidpointRounding.AwayFromZero) + zero;
        return symmetric
            ? (byte)Math.Clamp(q, SymmetricZero - (SymmetricZero - 1), SymmetricZero + (SymmetricZero - 1))
            : (byte)Math.Clamp(q, 0, maxCode);
    }
}
