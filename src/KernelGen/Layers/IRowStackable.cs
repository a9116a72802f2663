using System;

namespace KernelGen.Layers;

/// <summary>
/// A linear layer that can take on the rows of other layers of its kind that read the same input, so that one launch
/// computes several projections: q, k and v, or gate and up (<see cref="Models.LlamaModel"/> stacks them). On a GPU
/// the small k and v projections are bound by launch latency, not bytes (docs/perf/gemv.md, session 16: on the H100,
/// Llama-3-8B's q, k and v take 22.2 µs as three q4g128 launches and 9.6 µs as one of their stacked shape).
/// </summary>
public interface IRowStackable : ILinearLayer
{
    /// <summary>
    /// A new layer whose outputs are this layer's followed by each of <paramref name="others"/>' in order, or null when
    /// they cannot stack with this one (another kind, scheme, device or input size); nothing changes then. The caller
    /// owns the new layer; the parts stay valid and are the caller's to dispose.
    /// </summary>
    ILinearLayer? TryStackRows(ReadOnlySpan<ILinearLayer> others);
}
