using System;
using System.Numerics;
using System.Runtime.InteropServices;

namespace KernelGen.Quantization;

/// <summary>SIMD dot products for the host-side linear algebra: the quantizers' (Cholesky factors, output errors) and
/// <see cref="Models.LlamaModel"/>'s attention.</summary>
internal static class VectorMath
{
    /// <summary>Σ a[i]·b[i] over the shorter length's elements (callers pass equal lengths).</summary>
    public static double Dot(ReadOnlySpan<double> a, ReadOnlySpan<double> b)
    {
        int n = a.Length, i = 0;
        var sum = Vector<double>.Zero;
        if (Vector.IsHardwareAccelerated && n >= Vector<double>.Count)
        {
            var va = MemoryMarshal.Cast<double, Vector<double>>(a);
            var vb = MemoryMarshal.Cast<double, Vector<double>>(b[..n]);
            for (int v = 0; v < va.Length; v++)
            {
                sum += va[v] * vb[v];
            }

            i = va.Length * Vector<double>.Count;
        }

        double total = Vector.Sum(sum);
        for (; i < n; i++)
        {
            total += a[i] * b[i];
        }

        return total;
    }

    /// <summary>Σ a[i]·b[i] in float lanes, summed in double at the end of each vector pass.</summary>
    public static double Dot(ReadOnlySpan<float> a, ReadOnlySpan<float> b)
    {
        int n = a.Length, i = 0;
        var sum = Vector<float>.Zero;
        if (Vector.IsHardwareAccelerated && n >= Vector<float>.Count)
        {
            var va = MemoryMarshal.Cast<float, Vector<float>>(a);
            var vb = MemoryMarshal.Cast<float, Vector<float>>(b[..n]);
            for (int v = 0; v < va.Length; v++)
            {
                sum += va[v] * vb[v];
            }

            i = va.Length * Vector<float>.Count;
        }

        double total = Vector.Sum(sum);
        for (; i < n; i++)
        {
            total += a[i] * (double)b[i];
        }

        return total;
    }

    /// <summary>y[i] += a · x[i] (a product, then a sum: no fused multiply-add, so each lane rounds as scalar code does).</summary>
    public static void AddScaled(Span<double> y, double a, ReadOnlySpan<double> x)
    {
        int n = y.Length, i = 0;
        if (Vector.IsHardwareAccelerated && n >= Vector<double>.Count)
        {
            var vy = MemoryMarshal.Cast<double, Vector<double>>(y);
            var vx = MemoryMarshal.Cast<double, Vector<double>>(x[..n]);
            var va = new Vector<double>(a);
            for (int v = 0; v < vy.Length; v++)
            {
                vy[v] += va * vx[v];
            }

            i = vy.Length * Vector<double>.Count;
        }

        for (; i < n; i++)
        {
            y[i] += a * x[i];
        }
    }

    /// <summary>y[i] += a · x[i] in float lanes (a product, then a sum, as scalar code rounds them).</summary>
    public static void AddScaled(Span<float> y, float a, ReadOnlySpan<float> x)
    {
        int n = y.Length, i = 0;
        if (Vector.IsHardwareAccelerated && n >= Vector<float>.Count)
        {
            var vy = MemoryMarshal.Cast<float, Vector<float>>(y);
            var vx = MemoryMarshal.Cast<float, Vector<float>>(x[..n]);
            var va = new Vector<float>(a);
            for (int v = 0; v < vy.Length; v++)
            {
                vy[v] += va * vx[v];
            }

            i = vy.Length * Vector<float>.Count;
        }

        for (; i < n; i++)
        {
            y[i] += a * x[i];
        }
    }

    /// <summary>y[i] −= a · x[i]: <see cref="AddScaled(Span{double}, double, ReadOnlySpan{double})"/> of −a, the same numbers (negating a product is exact, and
    /// y + (−p) is y − p).</summary>
    public static void SubtractScaled(Span<double> y, double a, ReadOnlySpan<double> x) => AddScaled(y, -a, x);
}
