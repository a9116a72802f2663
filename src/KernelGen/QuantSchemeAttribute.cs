using System;

namespace KernelGen;

/// <summary>
/// Declares a weight-quantization scheme. On a <c>partial struct</c>, the KernelGen source generator emits the
/// scheme's packing code, reference <c>Quantize</c>/<c>Dequantize</c>, ILGPU kernels (dequantize, GEMV, tiled GEMM)
/// and an <see cref="IQuantScheme"/> implementation, all specialized for these parameters.
/// </summary>
/// <remarks>
/// <para><b>Symmetric</b> (within each group of weights w; round = to nearest, ties away from zero):</para>
/// <code>
/// qmax  = 2^(Bits−1) − 1
/// scale = fp16_up(max|w| / qmax)                  // the nearest fp16 that is ≥ the value
/// code  = clamp(round(w / scale), −qmax, qmax) + 2^(Bits−1)
/// w'    = scale · (code − 2^(Bits−1))
/// </code>
/// <para><b>Asymmetric</b> (min–max; the grid always contains 0 so that zero weights stay exact):</para>
/// <code>
/// lo = min(min(w), 0), hi = max(max(w), 0), maxCode = 2^Bits − 1
/// scale = fp16_up((hi − lo) / maxCode)
/// zero  = clamp(round(−lo / scale), 0, maxCode)   // stored packed, Bits wide
/// code  = clamp(round(w / scale) + zero, 0, maxCode)
/// w'    = scale · (code − zero)
/// </code>
/// <para>Because the scale is rounded up to a representable fp16, no weight is clipped: |w − w'| ≤ scale / 2 with the
/// stored scale. Scales are IEEE binary16; a group whose weights are all zero has scale 0. Weights are packed 32 codes
/// to <c>Bits</c> 32-bit words, little-endian within the chunk (codes of 3, 5 and 6 bits straddle words).</para>
/// <example>
/// <code>
/// [QuantScheme(Bits = 4, GroupSize = 128)]                       // asymmetric by default
/// public partial struct Q4G128;
///
/// [QuantScheme(Bits = 8, GroupSize = QuantSchemeAttribute.PerChannel, Symmetric = true)]
/// public partial struct Q8PerChannel;
/// </code>
/// </example>
/// </remarks>
[AttributeUsage(AttributeTargets.Struct | AttributeTargets.Class, Inherited = false, AllowMultiple = false)]
public sealed class QuantSchemeAttribute : Attribute
{
    /// <summary>The <see cref="GroupSize"/> that gives one group (one scale, one zero point) per output row.</summary>
    public const int PerChannel = -1;

    /// <summary>Bits per weight code: 2, 3, 4, 5, 6 or 8. Required (KG0001 when missing or unsupported).</summary>
    public int Bits { get; set; }

    /// <summary>Weights per group along the input dimension K: 32, 64, 128 or 256, or <see cref="PerChannel"/>.
    /// Defaults to 128. K must be a multiple of the group size (and of 32, the packing chunk).</summary>
    public int GroupSize { get; set; } = 128;

    /// <summary>True: scale only, grid symmetric around zero. False (default): scale and zero point (min–max).</summary>
    public bool Symmetric { get; set; }

    /// <summary>The scheme's name for the runtime and command line; defaults to the type's name. Letters, digits,
    /// '_' and '-' only, unique within a project (KG0007, KG0009).</summary>
    public string? Name { get; set; }
}
