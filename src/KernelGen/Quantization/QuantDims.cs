using System;

namespace KernelGen.Quantization;

/// <summary>
/// The sizes of one packed rows × cols matrix, derived once on the host and passed to kernels by value.
/// </summary>
public readonly struct QuantDims : IEquatable<QuantDims>
{
    /// <summary>Weights per packed chunk: 32 codes of b bits fill exactly b words.</summary>
    public const int ChunkSize = 32;

    /// <summary>Output rows (N).</summary>
    public readonly int Rows;

    /// <summary>Input columns (K).</summary>
    public readonly int Cols;

    /// <summary>Bits per code.</summary>
    public readonly int Bits;

    /// <summary>Weights per group; equals <see cref="Cols"/> for per-channel schemes.</summary>
    public readonly int GroupSize;

    /// <summary>Groups per row.</summary>
    public readonly int GroupsPerRow;

    /// <summary>Chunks of 32 weights per row.</summary>
    public readonly int ChunksPerRow;

    /// <summary>Chunks per group.</summary>
    public readonly int ChunksPerGroup;


    private QuantDims(int rows, int cols, int bits, int groupSize)
    {
        Rows = rows;
        Cols = cols;
        Bits = bits;
        GroupSize = groupSize;
        GroupsPerRow = cols / groupSize;
        ChunksPerRow = cols / ChunkSize;
        ChunksPerGroup = groupSize / ChunkSize;
    }

    /// <summary>Packed weight words: rows · cols/32 · bits.</summary>
    public long PackedWords => (long)Rows * ChunksPerRow * Bits;

    /// <summary>Scales: one per (row, group), row-major.</summary>
    public long ScaleCount => (long)GroupsPerRow * Rows;

    /// <summary>Packed zero-point words for an asymmetric scheme: the rows · groups codes, row-major, as one
    /// bit stream (code i at bits [i·bits, i·bits + bits)), in whole chunks: ⌈rows · groups / 32⌉ · bits.</summary>
    public long ZeroWords => ((((long)Rows * GroupsPerRow) + ChunkSize - 1) / ChunkSize) * Bits;

    /// <summary>K rounded up to whole groups (to whole 32-code chunks for per-channel schemes): how far the quantizers
    /// pad a projection's rows with zero weights when K does not fit the scheme.</summary>
    public static int PaddedCols(QuantSchemeInfo scheme, int cols)
    {
        ArgumentNullException.ThrowIfNull(scheme);
        int multiple = scheme.IsPerChannel ? ChunkSize : scheme.GroupSize;
        return (cols + multiple - 1) / multiple * multiple;
    }

    /// <summary>Validates a rows × cols matrix for <paramref name="scheme"/> and derives its sizes.</summary>
    /// <exception cref="ArgumentException">A dimension is not positive, K does not fit the group or chunk size, or the
    /// matrix is too large for 32-bit indexing.</exception>
    public static QuantDims Create(QuantSchemeInfo scheme, int rows, int cols)
    {
        ArgumentNullException.ThrowIfNull(scheme);
        if (rows <= 0 || cols <= 0)
        {
            throw new ArgumentException(FormattableString.Invariant(
                $"A {rows} × {cols} weight matrix is empty: rows (N) and cols (K) must both be positive."), nameof(rows));
        }

        int group = scheme.IsPerChannel ? cols : scheme.GroupSize;
        if (cols % ChunkSize != 0)
        {
            throw new ArgumentException(FormattableString.Invariant(
                $"K = {cols} is not a multiple of 32, the packing chunk of every scheme: pad the input dimension to {(cols + 31) / 32 * 32} with zero columns."),
                nameof(cols));
        }

        if (cols % group != 0)
        {
            throw new ArgumentException(FormattableString.Invariant(
                $"K = {cols} is not a multiple of {scheme.Name}'s group size {group}: pad K to {(cols + group - 1) / group * group} or choose a scheme whose group size divides {cols}."),
                nameof(cols));
        }

        if ((long)rows * cols > int.MaxValue)
        {
            throw new ArgumentException(FormattableString.Invariant(
                $"A {rows} × {cols} matrix has more than 2^31 − 1 weights; split it into row blocks."), nameof(rows));
        }

        return new QuantDims(rows, cols, scheme.Bits, group);
    }

    /// <inheritdoc />
    public bool Equals(QuantDims other) => Rows == other.Rows && Cols == other.Cols && Bits == other.Bits && GroupSize == other.GroupSize;

    /// <inheritdoc />
    public override bool Equals(object? obj) => obj is QuantDims other && Equals(other);

    /// <inheritdoc />
    public override int GetHashCode() => HashCode.Combine(Rows, Cols, Bits, GroupSize);

    /// <summary>Value equality.</summary>
    public static bool operator ==(QuantDims left, QuantDims right) => left.Equals(right);

    /// <summary>Value inequality.</summary>
    public static bool operator !=(QuantDims left, QuantDims right) => !left.Equals(right);
}
