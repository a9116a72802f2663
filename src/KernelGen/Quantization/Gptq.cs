using System;
using System.Linq;

namespace KernelGen.Quantization;

/// <summary>GPTQ settings (Frantar et al., 2022).</summary>
/// <param name="DampingFraction">Added to the Hessian's diagonal as a fraction of its mean (the paper: 1 %).</param>
/// <param name="BlockSize">Columns per lazy batch update (the paper: 128).</param>
/// <param name="ActOrder">Quantize columns in order of decreasing Hessian diagonal (the inputs with the most energy
/// first, while the most columns remain to absorb their error), with "static groups": every group's scale and zero are
/// fixed up front from the original weights, so the stored layout (groups of consecutive columns) does not change.</param>
public sealed record GptqOptions(double DampingFraction = 0.01, int BlockSize = 128, bool ActOrder = false);

/// <summary>
/// GPTQ: quantizes a layer's weights one input column at a time and spreads each column's rounding error over the
/// columns not yet quantized, weighted by the inverse Hessian of the layer's inputs (H = 2·XᵀX), so that the layer's
/// output on the calibration inputs changes as little as possible. Works for every generated scheme; group
/// parameters are computed when the group's first column is reached, from the weights as updated so far.
/// </summary>
public static class Gptq
{
    /// <summary>
    /// Quantizes row-major <paramref name="weights"/> (rows = outputs × cols = inputs) given the inputs' Hessian
    /// (cols × cols, row-major, e.g. Σ xxᵀ over calibration tokens; any positive scale gives the same result).
    /// </summary>
    /// <exception cref="ArgumentException">Shapes that do not match, or a Hessian that is not positive definite
    /// even after damping.</exception>
    public static QuantizedMatrix<TScheme> Quantize<TScheme>(ReadOnlySpan<float> weights, int rows, int cols, ReadOnlySpan<double> hessian, GptqOptions? options = null)
        where TScheme : struct, IQuantScheme
    {
        options ??= new GptqOptions();
        var info = TScheme.Info;
        var dims = QuantDims.Create(info, rows, cols);
        if (weights.Length != (long)rows * cols || hessian.Length != (long)cols * cols)
        {
            throw new ArgumentException(FormattableString.Invariant(
                $"GPTQ needs {(long)rows * cols} weights and a {cols} × {cols} Hessian ({(long)cols * cols} values); got {weights.Length} and {hessian.Length}."));
        }

        if (options.BlockSize <= 0 || !(options.DampingFraction >= 0))
        {
            throw new ArgumentException($"GPTQ options {options} need a positive block size and a non-negative damping fraction.", nameof(options));
        }

        // Working copies in float64: W (rows × cols) and H (cols × cols).
        var w = new double[(long)rows * cols];
        for (int i = 0; i < w.Length; i++)
        {
            w[i] = weights[i];
        }

        var h = hessian.ToArray();
        double meanDiagonal = 0;
        for (int i = 0; i < cols; i++)
        {
            // A dead input (never active in calibration) gets H_ii = 1 and its weights 0, as in the paper's code.
            if (h[(i * cols) + i] == 0)
            {
                h[(i * cols) + i] = 1;
                for (int r = 0; r < rows; r++)
                {
                    w[(r * cols) + i] = 0;
                }
            }

            meanDiagonal += h[(i * cols) + i];
        }

        double damping = options.DampingFraction * meanDiagonal / cols;
        for (int i = 0; i < cols; i++)
        {
            h[(i * cols) + i] += damping;
        }

        var quantizer = new GroupQuantizer(info);
        var scales = new ushort[(long)rows * dims.GroupsPerRow];
        var zeroCodes = info.Symmetric ? Array.Empty<byte>() : new byte[(long)rows * dims.GroupsPerRow];
        var group = new double[dims.GroupSize];

        // Column order: natural, or by decreasing H_ii (stable, so ties keep their order). W and H are permuted to it;
        // codes are written back at each column's natural index.
        var order = new int[cols];
        for (int i = 0; i < cols; i++)
        {
            order[i] = i;
        }

        double[]? staticInverse = null;
        int[]? staticZero = null;
        if (options.ActOrder)
        {
            var diagonal = new double[cols];
            for (int i = 0; i < cols; i++)
            {
                diagonal[i] = h[(i * cols) + i];
            }

            order = order.OrderByDescending(i => diagonal[i]).ToArray();

            // Static groups: parameters of every natural group from the (dead-column-zeroed) original weights.
            staticInverse = new double[scales.Length];
            staticZero = new int[scales.Length];
            for (int r = 0; r < rows; r++)
            {
                for (int g = 0; g < dims.GroupsPerRow; g++)
                {
                    for (int k = 0; k < dims.GroupSize; k++)
                    {
                        group[k] = w[(r * cols) + (g * dims.GroupSize) + k];
                    }

                    var p = quantizer.Parameters(group, r, g);
                    int at = (r * dims.GroupsPerRow) + g;
                    scales[at] = p.ScaleBits;
                    staticInverse[at] = p.Inverse;
                    staticZero[at] = p.Zero;
                    if (!info.Symmetric)
                    {
                        zeroCodes[at] = (byte)p.Zero;
                    }
                }
            }

            var permutedW = new double[w.Length];
            var permutedH = new double[h.Length];
            for (int r = 0; r < rows; r++)
            {
                for (int j = 0; j < cols; j++)
                {
                    permutedW[(r * cols) + j] = w[(r * cols) + order[j]];
                }
            }

            for (int i = 0; i < cols; i++)
            {
                for (int j = 0; j < cols; j++)
                {
                    permutedH[(i * cols) + j] = h[(order[i] * cols) + order[j]];
                }
            }

            w = permutedW;
            h = permutedH;
        }

        // U: the upper Cholesky factor of H⁻¹ (H⁻¹ = UᵀU); row i of U drives the updates after quantizing column i.
        var u = UpperCholeskyOfInverse(h, cols);

        var codes = new byte[(long)rows * cols];
        var inverses = new double[rows];
        var zeroPoints = new int[rows];
        var errors = new double[(long)rows * options.BlockSize];

        for (int start = 0; start < cols; start += options.BlockSize)
        {
            int end = Math.Min(start + options.BlockSize, cols);
            Array.Clear(errors);
            for (int i = start; i < end; i++)
            {
                int column = order[i];
                if (staticInverse is null && i % dims.GroupSize == 0)
                {
                    // Group parameters from the weights as updated so far, when the group's first column is reached.
                    int g = i / dims.GroupSize;
                    for (int r = 0; r < rows; r++)
                    {
                        for (int k = 0; k < dims.GroupSize; k++)
                        {
                            group[k] = w[(r * cols) + i + k];
                        }

                        var p = quantizer.Parameters(group, r, g);
                        scales[(r * dims.GroupsPerRow) + g] = p.ScaleBits;
                        inverses[r] = p.Inverse;
                        zeroPoints[r] = p.Zero;
                        if (!info.Symmetric)
                        {
                            zeroCodes[(r * dims.GroupsPerRow) + g] = (byte)p.Zero;
                        }
                    }
                }

                double d = u[(i * cols) + i];
                for (int r = 0; r < rows; r++)
                {
                    int g = column / dims.GroupSize;
                    int at = (r * dims.GroupsPerRow) + g;
                    double scale = Fp16.ToDouble(scales[at]);
                    double inverse = staticInverse is null ? inverses[r] : staticInverse[at];
                    int zero = staticZero is null ? zeroPoints[r] : staticZero[at];
                    double value = w[(r * cols) + i];
                    byte code = quantizer.Code(value, inverse, zero);
                    codes[(r * cols) + column] = code;
                    double dequantized = scale * (code - zero);
                    double error = (value - dequantized) / d;
                    errors[(r * options.BlockSize) + (i - start)] = error;

                    // Spread the error over this block's remaining columns now.
                    VectorMath.SubtractScaled(w.AsSpan((r * cols) + i + 1, end - i - 1), error, u.AsSpan((i * cols) + i + 1, end - i - 1));
                }
            }

            // Lazy batch update of every column after the block: W[:, end:] −= E · U[start:end, end:].
            for (int r = 0; r < rows; r++)
            {
                for (int i = start; i < end; i++)
                {
                    double error = errors[(r * options.BlockSize) + (i - start)];
                    if (error == 0)
                    {
                        continue;
                    }

                    VectorMath.SubtractScaled(w.AsSpan((r * cols) + end, cols - end), error, u.AsSpan((i * cols) + end, cols - end));
                }
            }
        }

        return QuantizedMatrix<TScheme>.FromCodes(rows, cols, codes, scales, zeroCodes);
    }

    /// <summary>U with H⁻¹ = UᵀU, U upper triangular: H = LLᵀ, H⁻¹ from L⁻¹, then the transposed Cholesky factor of H⁻¹.
    /// Every inner loop is a dot product of two contiguous rows (L⁻¹ is kept transposed), so it runs at SIMD speed.</summary>
    internal static double[] UpperCholeskyOfInverse(double[] h, int n)
    {
        var l = Cholesky(h, n, "the damped Hessian");

        // L⁻¹ by forward substitution, stored transposed: t[c, r] = (L⁻¹)[r, c] for r ≥ c. Columns are independent.
        var t = new double[(long)n * n];
        System.Threading.Tasks.Parallel.For(0, n, c =>
        {
            var column = t.AsSpan(c * n, n);
            for (int r = c; r < n; r++)
            {
                double sum = r == c ? 1 : 0;
                sum -= VectorMath.Dot(l.AsSpan((r * n) + c, r - c), column.Slice(c, r - c));
                column[r] = sum / l[(r * n) + r];
            }
        });

        // H⁻¹ = L⁻ᵀ L⁻¹: (H⁻¹)[i, j] = Σ_k≥max(i,j) (L⁻¹)[k, i]·(L⁻¹)[k, j] = rows i and j of t from max(i, j) on. Row i
        // writes entries (i, j) and (j, i) for j ≤ i only, so rows run in parallel.
        var inverse = new double[(long)n * n];
        System.Threading.Tasks.Parallel.For(0, n, i =>
        {
            for (int j = 0; j <= i; j++)
            {
                double sum = VectorMath.Dot(t.AsSpan((i * n) + i, n - i), t.AsSpan((j * n) + i, n - i));
                inverse[(i * n) + j] = sum;
                inverse[(j * n) + i] = sum;
            }
        });

        // H⁻¹ = LLᵀ ⇒ H⁻¹ = UᵀU with U = Lᵀ (what torch.linalg.cholesky(·, upper=True) returns).
        var lowerOfInverse = Cholesky(inverse, n, "the inverse Hessian");
        var u = new double[(long)n * n];
        for (int i = 0; i < n; i++)
        {
            for (int j = i; j < n; j++)
            {
                u[(i * n) + j] = lowerOfInverse[(j * n) + i];
            }
        }

        return u;
    }

    /// <summary>L with A = LLᵀ, column by column: column j's pivot from row j, then its entries below the pivot, each
    /// row's from its own earlier columns and row j's (the same arithmetic as row by row), in parallel across rows.</summary>
    private static double[] Cholesky(double[] a, int n, string what)
    {
        var l = new double[(long)n * n];
        for (int j = 0; j < n; j++)
        {
            double pivot = a[(j * n) + j] - VectorMath.Dot(l.AsSpan(j * n, j), l.AsSpan(j * n, j));
            if (!(pivot > 0))
            {
                throw new ArgumentException($"GPTQ: {what} is not positive definite (pivot {j} is {pivot:G3}): collect more calibration data or raise the damping.");
            }

            double diagonal = Math.Sqrt(pivot);
            l[(j * n) + j] = diagonal;
            int column = j;
            void Entry(int i) => l[(i * n) + column] = (a[(i * n) + column] - VectorMath.Dot(l.AsSpan(i * n, column), l.AsSpan(column * n, column))) / diagonal;
            if ((long)(n - j) * j < ParallelColumnWork)
            {
                for (int i = j + 1; i < n; i++)
                {
                    Entry(i);
                }
            }
            else
            {
                System.Threading.Tasks.Parallel.For(j + 1, n, Entry);
            }
        }

        return l;
    }

    /// <summary>Multiply-adds below which a Cholesky column is computed on one thread (a parallel loop costs
    /// microseconds to start).</summary>
    private const long ParallelColumnWork = 32_768;
}
