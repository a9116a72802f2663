using System;

namespace KernelGen.Quantization;

/// <summary>
/// Round-to-nearest with a per-group clipping search (the cheap baseline of AWQ's paper and llama.cpp's quantizers):
/// for each group, the range is shrunk by α ∈ {1, 1 − s/n, …, 1 − s} (n = <c>steps</c>, s = <c>maxShrink</c>), the
/// group is quantized with the parameters of that range (values outside it clamp to the end codes), and the α with
/// the smallest squared weight error wins. α = 1 is plain RTN, so no group gets worse.
/// </summary>
public static class ClipSearch
{
    /// <summary>Quantizes row-major <paramref name="weights"/> ([rows, cols]) with the search.</summary>
    public static QuantizedMatrix<TScheme> Quantize<TScheme>(ReadOnlySpan<float> weights, int rows, int cols, int steps = 20, double maxShrink = 0.5)
        where TScheme : struct, IQuantScheme
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(steps, 0);
        if (!(maxShrink >= 0 && maxShrink < 1))
        {
            throw new ArgumentOutOfRangeException(nameof(maxShrink), maxShrink, "The largest shrink must be in [0, 1).");
        }

        var info = TScheme.Info;
        var dims = QuantDims.Create(info, rows, cols);
        if (weights.Length != (long)rows * cols)
        {
            throw new ArgumentException($"{weights.Length} weights do not fill [{rows} × {cols}].", nameof(weights));
        }

        var quantizer = new GroupQuantizer(info);
        int groupSize = dims.GroupSize;
        var codes = new byte[(long)rows * cols];
        var scales = new ushort[(long)rows * dims.GroupsPerRow];
        var zeros = info.Symmetric ? Array.Empty<byte>() : new byte[scales.Length];
        var group = new double[groupSize];
        var shrunk = new double[groupSize];
        var trial = new byte[groupSize];
        for (int r = 0; r < rows; r++)
        {
            for (int g = 0; g < dims.GroupsPerRow; g++)
            {
                int start = g * groupSize;
                for (int i = 0; i < groupSize; i++)
                {
                    group[i] = weights[(r * cols) + start + i];
                }

                double best = double.PositiveInfinity;
                for (int step = 0; step <= steps; step++)
                {
                    double alpha = steps == 0 ? 1 : 1 - (maxShrink * step / steps);
                    for (int i = 0; i < groupSize; i++)
                    {
                        shrunk[i] = group[i] * alpha;
                    }

                    var (bits, scale, inverse, zero) = quantizer.Parameters(shrunk, r, g);
                    double error = 0;
                    for (int i = 0; i < groupSize; i++)
                    {
                        trial[i] = quantizer.Code(group[i], inverse, zero);
                        double d = group[i] - (scale * (trial[i] - zero));
                        error += d * d;
                    }

                    if (error < best)
                    {
                        best = error;
                        trial.CopyTo(codes.AsSpan((r * cols) + start, groupSize));
                        scales[(r * dims.GroupsPerRow) + g] = bits;
                        if (!info.Symmetric)
                        {
                            zeros[(r * dims.GroupsPerRow) + g] = (byte)zero;
                        }
                    }
                }
            }
        }

        return QuantizedMatrix<TScheme>.FromCodes(rows, cols, codes, scales, zeros);
    }
}
