using System;
using System.Linq;
using KernelGen.Layers;
using KernelGen.Quantization;

namespace KernelGen.Cli.Bench;

/// <summary>The benches' independent reference: rows of a quantized matrix dequantized in float64 from the packed words
/// (the scheme's own unpacking, its scales and zero points; no kernel code), and how far each kernel may be from it.</summary>
internal static class Float64Rows
{
    /// <summary>Up to <paramref name="count"/> outputs of <paramref name="n"/>, evenly spaced from the first to the last:
    /// the rows the benches check.</summary>
    public static int[] Sample(int n, int count = 64)
        => Enumerable.Range(0, count).Select(i => (int)((long)i * (n - 1) / (count - 1))).Distinct().ToArray();

    /// <summary>Row <paramref name="row"/> of W = scale·(code − zero), in float64.</summary>
    public static double[] Dequantize<TScheme>(QuantizedMatrix<TScheme> matrix, int row)
        where TScheme : struct, IQuantScheme
    {
        var dims = matrix.Dims;
        var codes = new byte[QuantDims.ChunkSize];
        var w = new double[matrix.Cols];
        for (int chunk = 0; chunk < dims.ChunksPerRow; chunk++)
        {
            TScheme.UnpackChunk(matrix.Packed.AsSpan(checked(((row * dims.ChunksPerRow) + chunk) * dims.Bits), dims.Bits), codes);
            int group = chunk / dims.ChunksPerGroup;
            double scale = matrix.GetScale(row, group);
            int zero = matrix.GetZero(row, group);
            for (int j = 0; j < QuantDims.ChunkSize; j++)
            {
                w[(chunk * QuantDims.ChunkSize) + j] = scale * (codes[j] - zero);
            }
        }

        return w;
    }

    /// <summary>
    /// The largest ‖y − y_ref‖ / ‖y_ref‖ a kernel may show against float64 over the x it documents reading: tensor
    /// cores read x rounded to f16 (2^-11 relative per activation), 2e-3; the int8-activation GEMV is exact over x
    /// rounded to int8 up to its f32 flushes, and the float32 kernels up to their sums, 1e-4.
    /// </summary>
    public static double Tolerance(MatrixKernel kernel) => kernel is MatrixKernel.TensorCoreGemv or MatrixKernel.TensorCoreGemm ? 2e-3 : 1e-4;
}
