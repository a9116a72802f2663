using System;

namespace KernelGen;

/// <summary>A scheme's parameters as a value.</summary>
/// <param name="Name">The scheme's name (the type's name unless the attribute set one).</param>
/// <param name="Bits">Bits per weight code.</param>
/// <param name="GroupSize">Weights per group, or <see cref="QuantSchemeAttribute.PerChannel"/>.</param>
/// <param name="Symmetric">True when no zero point is stored.</param>
public sealed record QuantSchemeInfo(string Name, int Bits, int GroupSize, bool Symmetric)
{
    /// <summary>True when one group spans a whole row.</summary>
    public bool IsPerChannel => GroupSize == QuantSchemeAttribute.PerChannel;

    /// <summary>Storage cost per weight including scales (16 bits per group) and packed zero points, for rows of
    /// <paramref name="cols"/> weights.</summary>
    public double BitsPerWeight(int cols)
    {
        int group = IsPerChannel ? cols : GroupSize;
        return Bits + ((16.0 + (Symmetric ? 0 : Bits)) / group);
    }

    /// <inheritdoc />
    public override string ToString()
    {
        var group = IsPerChannel ? "per-channel" : "g" + GroupSize.ToString(System.Globalization.CultureInfo.InvariantCulture);
        return FormattableString.Invariant($"{Name} ({Bits}-bit {(Symmetric ? "sym" : "asym")} {group})");
    }
}
