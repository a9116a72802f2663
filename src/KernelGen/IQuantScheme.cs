using System;
using ILGPU.Runtime;
using KernelGen.Backends;
using KernelGen.Quantization;

namespace KernelGen;

/// <summary>
/// Implemented by the source generator for every <see cref="QuantSchemeAttribute"/> struct, so that generic code
/// (<see cref="Layers.QuantLinear{TScheme}"/>, <see cref="QuantizedMatrix{TScheme}"/>) calls the scheme's own
/// specialized code through static abstract members, without reflection. Not meant to be implemented by hand.
/// </summary>
public interface IQuantScheme
{
    /// <summary>The scheme's parameters.</summary>
    static abstract QuantSchemeInfo Info { get; }

    /// <summary>Packs 32 codes into <c>Bits</c> words (layout in the scheme's docs).</summary>
    static abstract void PackChunk(ReadOnlySpan<byte> codes, Span<uint> words);

    /// <summary>Unpacks <c>Bits</c> words into 32 codes.</summary>
    static abstract void UnpackChunk(ReadOnlySpan<uint> words, Span<byte> codes);

    /// <summary>Reference round-to-nearest quantization into preallocated, correctly sized buffers.</summary>
    static abstract void QuantizeInto(ReadOnlySpan<float> weights, QuantDims dims, Span<uint> packed, Span<ushort> scales, Span<uint> zeros);

    /// <summary>Reference dequantization into a preallocated rows × cols buffer.</summary>
    static abstract void DequantizeInto(ReadOnlySpan<uint> packed, ReadOnlySpan<ushort> scales, ReadOnlySpan<uint> zeros, QuantDims dims, Span<float> output);

    /// <summary>Compiles the scheme's kernels for an accelerator.</summary>
    static abstract QuantKernels LoadKernels(Accelerator accelerator, GemvReduction reduction);
}
