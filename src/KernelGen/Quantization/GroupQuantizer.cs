using System;
using System.Numerics;
using System.Runtime.InteropServices;

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
        var (lo, hi, absMax) = Range(group);
        return Parameters(lo, hi, absMax, row, groupIndex);
    }

    /// <summary>A group's range: min(0, min v), max(0, max v) and max |v|, what <see cref="Parameters(double, double, double, int, int)"/>
    /// takes. Scaling the values by α &gt; 0 scales all three by α exactly (rounding is monotonic), so a search over
    /// shrunk ranges computes them once per group.</summary>
    public static (double Lo, double Hi, double AbsMax) Range(ReadOnlySpan<double> group)
    {
        double lo = 0, hi = 0, absMax = 0;
        foreach (double v in group)
        {
            lo = Math.Min(lo, v);
            hi = Math.Max(hi, v);
            absMax = Math.Max(absMax, Math.Abs(v));
        }

        return (lo, hi, absMax);
    }

    /// <summary>Scale (as fp16 bits and value), its inverse and the zero point for a group of the given <see cref="Range"/>.</summary>
    public (ushort ScaleBits, double Scale, double Inverse, int Zero) Parameters(double lo, double hi, double absMax, int row, int groupIndex)
    {
        ushort bits = symmetric ? Fp16.RoundUp(absMax / (SymmetricZero - 1), row, groupIndex) : Fp16.RoundUp((hi - lo) / maxCode, row, groupIndex);
        double scale = Fp16.ToDouble(bits);
        double inverse = scale == 0 ? 0 : 1.0 / scale;
        int zero = symmetric ? SymmetricZero : (int)Math.Clamp(Math.Round(-lo * inverse, MidpointRounding.AwayFromZero), 0, maxCode);
        return (bits, scale, inverse, zero);
    }

    /// <summary>
    /// <see cref="Code"/> of every value of <paramref name="group"/> (as a double, into <paramref name="codes"/>) and its
    /// error w − scale·(code − zero) (into <paramref name="errors"/>), the same numbers the scalar path gives, in vector
    /// lanes: rounding half away from zero is truncation plus the sign where the dropped fraction is at least ½.
    /// </summary>
    public void CodesAndErrors(ReadOnlySpan<double> group, double scale, double inverse, int zero, Span<double> codes, Span<double> errors)
    {
        int n = group.Length, i = 0;
        double lowest = symmetric ? 1 : 0, highest = symmetric ? (2 * SymmetricZero) - 1 : maxCode;
        if (Vector.IsHardwareAccelerated && n >= Vector<double>.Count)
        {
            var w = MemoryMarshal.Cast<double, Vector<double>>(group);
            var q = MemoryMarshal.Cast<double, Vector<double>>(codes[..n]);
            var e = MemoryMarshal.Cast<double, Vector<double>>(errors[..n]);
            Vector<double> vInverse = new(inverse), vScale = new(scale), vZero = new(zero), vLow = new(lowest), vHigh = new(highest), half = new(0.5);
            for (int v = 0; v < w.Length; v++)
            {
                var x = w[v] * vInverse;
                var t = Vector.Truncate(x);
                var up = Vector.GreaterThanOrEqual(Vector.Abs(x - t), half);
                var r = Vector.ConditionalSelect(up, t + CopySign(x), t) + vZero;
                var c = Vector.Min(Vector.Max(r, vLow), vHigh);
                q[v] = c;
                e[v] = w[v] - (vScale * (c - vZero));
            }

            i = w.Length * Vector<double>.Count;
        }

        for (; i < n; i++)
        {
            double c = Code(group[i], inverse, zero);
            codes[i] = c;
            errors[i] = group[i] - (scale * (c - zero));
        }
    }

    private static Vector<double> CopySign(Vector<double> x)
        => Vector.ConditionalSelect(Vector.LessThan(x, Vector<double>.Zero), new Vector<double>(-1), Vector<double>.One);

    /// <summary>The code of value <paramref name="w"/> under the given parameters.</summary>
    public byte Code(double w, double inverse, int zero)
    {
        double q = Math.Round(w * inverse, MidpointRounding.AwayFromZero) + zero;
        return symmetric
            ? (byte)Math.Clamp(q, SymmetricZero - (SymmetricZero - 1), SymmetricZero + (SymmetricZero - 1))
            : (byte)Math.Clamp(q, 0, maxCode);
    }
}
