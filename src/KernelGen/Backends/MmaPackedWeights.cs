using System;
using System.Threading.Tasks;
using KernelGen.Quantization;

namespace KernelGen.Backends;

/// <summary>
/// A quantized matrix repacked in the order the tensor-core GEMV reads it (as Marlin does for its kernels): every lane
/// of a warp loads, with one 16-byte load per tile of 8 weight rows, exactly its share of the <c>mma.m16n8k16</c>
/// fragments for the next 32/b k-blocks, and a whole warp's load is 512 contiguous bytes.
/// <para>
/// Layout, for b = 2-, 4- and 8-bit codes. Rows are cut into tiles of 8 (the mma's n) and K into slabs of 32/b k-blocks
/// of 16 (512/b columns: 256, 128 or 64); both are padded with zero codes. Words
/// <c>((tile · Slabs + slab) · 32 + lane) · 4 + w</c> (w &lt; 4) belong to lane (g = lane / 4, t = lane % 4), which holds
/// row <c>8 · tile + g</c> at columns 4t … 4t+3 of each k-block: the mma's fragment slots k = 2t, 2t+1 hold columns
/// 4t, 4t+1 and slots 2t+8, 2t+9 columns 4t+2, 4t+3. (The mma sums over k in any order, so the kernel's x fragment
/// uses the same permutation and a lane reads its four activations of a k-block with one 16-byte load.) A word holds
/// 16/b pairs; pair p is the code at bit b·p (even column) and the code at bit 16 + b·p (odd column), so
/// <c>(word &gt;&gt; b·p) &amp; mask | 0x6400_6400</c> is the f16 pair 1024 + code. Pair p of word w is k-block
/// <c>w · 8/b + p / 2</c> of the slab, its low (p even: columns 4t, 4t+1) or high half (p odd: 4t+2, 4t+3).
/// </para>
/// <para>
/// Tiles come in blocks of <see cref="TileBlock"/> (a GEMV warp's rows; N is padded to whole blocks), and a block's
/// scales and zero points are interleaved so that a lane reads its row's values of all four tiles with one 16-byte
/// load. Scales: f16 pairs, word <c>((block · Groups + group) · 4 + r / 2) · 4 + j</c> holds the scale of row r of
/// tile 4·block + j, and of row r + 1 (r even: low half). Zero points (asymmetric schemes): one byte per row, word
/// <c>((block · Groups + group) · 2 + r / 4) · 4 + j</c>, byte r % 4. Groups counts the groups of the padded K (the
/// padding's scales are 0); both arrays end with two spare groups of a block (zeros), so a kernel may load ahead.
/// </para>
/// <para>
/// 3-bit codes are two planes in the 2-bit geometry (slabs of 16 k-blocks, 256 columns): <see cref="Packed"/> first holds
/// each code's low two bits exactly where a 2-bit code would sit, then, from word <see cref="HighPlane"/>, their third
/// bits: words <c>HighPlane + ((tile · Slabs + slab) · 32 + lane) · 2 + h</c> (one 8-byte load per lane, a warp's 256
/// contiguous bytes), word h for the lane's low words 2h + e (e = 0, 1). The third bit of the code at bit 2s + 8β (+ 16:
/// odd column) of low word 2h + e sits at bit s + 8β + e (+ 16) of its high word, s ∈ {0, 2, 4, 6}, β ∈ {0, 1}: after one
/// shift of the high word by 8β + e − 2, the third bits of the four pairs of low byte β sit at bits 2, 4, 6, 8, just above
/// their low bits (at 0, 2, 4, 6 after the low word's shift by 8β), so one select (<c>lop3</c>) per two pairs merges them
/// into 3-bit fields at bit s, which decode as the 2-bit ones do (1024 + code·2^s).
/// </para>
/// </summary>
public sealed class MmaPackedWeights
{
    /// <summary>Rows per tile (a tile's row g pairs with the next tile's as rows g and g + 8 of an mma's A).</summary>
    public const int TileRows = 8;

    /// <summary>Tiles per block: N is padded to whole blocks of 32 rows.</summary>
    public const int TileBlock = 4;

    private MmaPackedWeights(int rows, int cols, int bits, int groupSize, bool symmetric)
    {
        Rows = rows;
        Cols = cols;
        Bits = bits;
        GroupSize = groupSize;
        Symmetric = symmetric;
        Tiles = (rows + (TileRows * TileBlock) - 1) / (TileRows * TileBlock) * TileBlock;
        Slabs = (cols + SlabCols - 1) / SlabCols;
        Groups = ((Slabs * SlabCols) + groupSize - 1) / groupSize;
        HighPlane = bits == 3 ? 2 * HighPlanePairs(Tiles, Slabs) : 0;
        Packed = new uint[(long)Tiles * Slabs * 32 * (bits == 3 ? 6 : 4)];
        // Two spare groups of a block at the end (zeros): a kernel that loads a group ahead reads up to two past the
        // last one (the group after the last, then the one it prefetches when that opens).
        Scales = new uint[((long)Tiles * Groups * 4) + (2 * TileBlock * 4)];
        Zeros = symmetric ? Array.Empty<uint>() : new uint[((long)Tiles * Groups * 2) + (2 * TileBlock * 2)];
    }

    /// <summary>N.</summary>
    public int Rows { get; }

    /// <summary>K.</summary>
    public int Cols { get; }

    /// <summary>Bits per code: 2, 3, 4 or 8.</summary>
    public int Bits { get; }

    /// <summary>The code width the words' geometry follows: <see cref="Bits"/>, or 2 for 3-bit codes (whose low two bits are
    /// laid out as 2-bit codes, their third bits in a plane of their own).</summary>
    public int WordBits => WordBitsOf(Bits);

    /// <summary>Where the third bits of 3-bit codes start in <see cref="Packed"/> (in words); 0 for other widths.</summary>
    public long HighPlane { get; }

    /// <summary>Weights per scale along K (K for per-channel schemes).</summary>
    public int GroupSize { get; }

    /// <summary>Whether the zero point is fixed at 2^(bits−1).</summary>
    public bool Symmetric { get; }

    /// <summary>Tiles of 8 rows (N rounded up to whole blocks of <see cref="TileBlock"/> tiles).</summary>
    public int Tiles { get; }

    /// <summary>Columns per slab: 32/b k-blocks of 16 (b = <see cref="WordBits"/>), one 16-byte load per lane (3-bit: and
    /// one 8-byte load of third bits).</summary>
    public int SlabCols => SlabColsOf(Bits);

    /// <summary>k-blocks per slab.</summary>
    public int BlocksPerSlab => BlocksPerSlabOf(Bits);

    /// <summary><see cref="SlabCols"/> for <paramref name="bits"/>-bit codes.</summary>
    public static int SlabColsOf(int bits) => 16 * BlocksPerSlabOf(bits);

    /// <summary><see cref="BlocksPerSlab"/> for <paramref name="bits"/>-bit codes (the kernels' constant).</summary>
    public static int BlocksPerSlabOf(int bits) => 32 / WordBitsOf(bits);

    /// <summary>The geometry's code width for <paramref name="bits"/>-bit codes (<see cref="WordBits"/>).</summary>
    public static int WordBitsOf(int bits) => bits == 3 ? 2 : bits;

    /// <summary>Where 3-bit codes' third bits start, in word pairs (what the kernels index them in): after the low plane's
    /// one quad per tile, slab and lane (<see cref="HighPlane"/> / 2).</summary>
    internal static long HighPlanePairs(int tiles, int slabs) => (long)tiles * slabs * 64;

    /// <summary>Slabs per tile (K rounded up to <see cref="SlabCols"/>).</summary>
    public int Slabs { get; }

    /// <summary>Groups per row of the padded K.</summary>
    public int Groups { get; }

    /// <summary>The codes in fragment order (see the type's remarks).</summary>
    public uint[] Packed { get; }

    /// <summary>f16 scale pairs per (tile, group, row pair).</summary>
    public uint[] Scales { get; }

    /// <summary>Zero-point bytes per (tile, group, row); empty for symmetric schemes.</summary>
    public uint[] Zeros { get; }

    /// <summary>Bytes stored.</summary>
    public long ByteCount => (Packed.LongLength + Scales.LongLength + Zeros.LongLength) * 4;

    /// <summary>True when <paramref name="scheme"/> can be repacked: 2-, 3-, 4- or 8-bit codes, groups of whole k-blocks.</summary>
    public static bool Supports(QuantSchemeInfo scheme, int cols)
    {
        ArgumentNullException.ThrowIfNull(scheme);
        int group = scheme.IsPerChannel ? cols : scheme.GroupSize;
        return scheme.Bits is 2 or 3 or 4 or 8 && group % 16 == 0;
    }

    /// <summary>Repacks <paramref name="matrix"/> (lossless: <see cref="Code"/>, <see cref="Scale"/> and <see cref="Zero"/>
    /// return what the matrix stores).</summary>
    /// <exception cref="ArgumentException">The scheme is not 2-, 3-, 4- or 8-bit with 16-aligned groups.</exception>
    public static MmaPackedWeights Create<TScheme>(QuantizedMatrix<TScheme> matrix)
        where TScheme : struct, IQuantScheme
    {
        ArgumentNullException.ThrowIfNull(matrix);
        var info = TScheme.Info;
        if (!Supports(info, matrix.Cols))
        {
            throw new ArgumentException($"{info} cannot be repacked for the tensor cores: they take 2-, 3-, 4- or 8-bit codes in groups of a multiple of 16.", nameof(matrix));
        }

        var dims = matrix.Dims;
        var result = new MmaPackedWeights(matrix.Rows, matrix.Cols, dims.Bits, dims.GroupSize, info.Symmetric);
        int b = dims.Bits;
        Parallel.For(0, result.Tiles, tile =>
        {
            var codes = new byte[dims.Cols];
            for (int r = 0; r < TileRows; r++)
            {
                int row = (tile * TileRows) + r;
                if (row >= dims.Rows)
                {
                    break; // padding rows keep zero codes and zero scales
                }

                for (int chunk = 0; chunk < dims.ChunksPerRow; chunk++)
                {
                    TScheme.UnpackChunk(
                        matrix.Packed.AsSpan((int)(((long)row * dims.ChunksPerRow) + chunk) * b, b),
                        codes.AsSpan(chunk * QuantDims.ChunkSize, QuantDims.ChunkSize));
                }

                for (int k = 0; k < dims.Cols; k++)
                {
                    uint code = codes[k];
                    result.Packed[result.WordOf(row, k, out int shift)] |= (code & result.LowMask) << shift;
                    if (b == 3)
                    {
                        result.Packed[result.HighWordOf(row, k, out int high)] |= (code >> 2) << high;
                    }
                }

                for (int group = 0; group < dims.GroupsPerRow; group++)
                {
                    result.Scales[result.ScaleWord(row, group)] |= (uint)matrix.Scales[((long)row * dims.GroupsPerRow) + group] << (16 * (r & 1));
                    if (!info.Symmetric)
                    {
                        result.Zeros[result.ZeroWord(row, group)] |= (uint)matrix.GetZero(row, group) << (8 * (r & 3));
                    }
                }
            }

        });
        return result;
    }

    /// <summary>The code of weight (row, k), read from the repacked words.</summary>
    public int Code(int row, int k)
    {
        long word = WordOf(row, k, out int shift);
        int code = (int)((Packed[word] >> shift) & LowMask);
        if (Bits == 3)
        {
            code |= (int)((Packed[HighWordOf(row, k, out int high)] >> high) & 1) << 2;
        }

        return code;
    }

    /// <summary>The bits of a code its word in the low plane holds (all but 3-bit codes' third).</summary>
    private uint LowMask => (1u << WordBits) - 1;

    /// <summary>The f16 scale bits of (row, group).</summary>
    public ushort Scale(int row, int group) => (ushort)(Scales[ScaleWord(row, group)] >> (16 * (row & 1)));

    /// <summary>The zero point of (row, group).</summary>
    public int Zero(int row, int group)
        => Symmetric ? 1 << (Bits - 1) : (int)((Zeros[ZeroWord(row, group)] >> (8 * (row & 3))) & 0xFF);

    /// <summary>The word holding the scale of (row, group) (see the type's remarks).</summary>
    private long ScaleWord(int row, int group)
    {
        int tile = row / TileRows, r = row % TileRows;
        return (((((long)(tile / TileBlock) * Groups) + group) * 4 + (r >> 1)) * TileBlock) + (tile % TileBlock);
    }

    /// <summary>The word holding the zero point of (row, group) (see the type's remarks).</summary>
    private long ZeroWord(int row, int group)
    {
        int tile = row / TileRows, r = row % TileRows;
        return (((((long)(tile / TileBlock) * Groups) + group) * 2 + (r >> 2)) * TileBlock) + (tile % TileBlock);
    }

    /// <summary>The word holding weight (row, k) and the code's bit offset in it.</summary>
    private long WordOf(int row, int k, out int shift)
    {
        int tile = row / TileRows, g = row % TileRows, slab = k / SlabCols, kb = (k % SlabCols) / 16, kk = k % 16;
        int t = kk >> 2, high = (kk >> 1) & 1, odd = kk & 1;
        int lane = (g * 4) + t;
        int kbPerWord = 8 / WordBits;
        int w = kb / kbPerWord, pair = (2 * (kb % kbPerWord)) + high;
        shift = (WordBits * pair) + (16 * odd);
        return ((((long)tile * Slabs) + slab) * 32 + lane) * 4 + w;
    }

    /// <summary>For 3-bit codes: the word holding the third bit of weight (row, k) and the bit's offset in it (see the
    /// type's remarks).</summary>
    private long HighWordOf(int row, int k, out int shift)
    {
        long low = WordOf(row, k, out int lowShift);
        int w = (int)(low & 3), position = lowShift & 15, odd = lowShift >> 4;
        shift = position + (w & 1) + (16 * odd); // the low code's bit 8β + s, plus e (+ 16)
        return HighPlane + ((low >> 2) * 2) + (w >> 1);
    }
}
