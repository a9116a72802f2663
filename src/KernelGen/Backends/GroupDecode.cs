using ILGPU;
using ILGPU.Runtime;

namespace KernelGen.Backends;

/// <summary>
/// The open group's decode constants for one lane's row g of a block of four 8-row tiles (a–d) in
/// <see cref="MmaPackedWeights"/> order, and the decode of one k-block into the two 16-row A operands of
/// <c>mma.sync.m16n8k16</c> (tiles a, b and c, d): <c>lop3</c> to 1024 + code·2^s, <c>fma.f16x2</c> to code − zero
/// (exact), <c>mul.rn.f16x2</c> by the scale (one rounding). <see cref="TensorCoreGemv"/> and
/// <see cref="TensorCoreGemm"/> both decode this way.
/// </summary>
internal struct GroupDecode
{
    /// <summary>Tiles a, b (A operand ab) and c, d (cd).</summary>
    public PairDecode Ab, Cd;

    /// <summary>Opens a group from its raw words: <paramref name="scales"/> holds the four tiles' f16 scale words
    /// (this lane's row at bit <paramref name="scaleShift"/>), <paramref name="zeros"/> their zero-point bytes (at bit
    /// <paramref name="zeroShift"/>; ignored when <paramref name="symmetric"/>: the zero is 2^(bits−1)).</summary>
    /// <remarks>With <paramref name="offset"/> (a constant) the zero points are kept as floats for the group's f32
    /// correction (<see cref="TensorCoreMma.IMma.DecodeOffset"/>) instead of as f16 biases.</remarks>
    public void Take<TMma>(TensorCoreGemv.Quad scales, TensorCoreGemv.Quad zeros, int scaleShift, int zeroShift, bool symmetric, int bits, bool offset = false)
        where TMma : struct, TensorCoreMma.IMma
    {
        int half = 1 << (bits - 1);
        Ab.Take<TMma>(scales.X, scales.Y, zeros.X, zeros.Y, scaleShift, zeroShift, symmetric, half, offset);
        Cd.Take<TMma>(scales.Z, scales.W, zeros.Z, zeros.W, scaleShift, zeroShift, symmetric, half, offset);
    }

    /// <summary>k-block <paramref name="j"/> of this lane's words of tiles a–d (<see cref="PairDecode.Decode"/>): A
    /// operand ab is <paramref name="a0"/>…<paramref name="a3"/>, cd is <paramref name="c0"/>…<paramref name="c3"/>;
    /// unscaled (code − zero) unless <paramref name="scaled"/> (a constant), or 2^(10−s) + code where
    /// <paramref name="offset"/> (a constant; <see cref="TensorCoreMma.IMma.DecodeOffset"/>).</summary>
    /// <remarks>3-bit codes also take the tiles' words of third bits (<paramref name="ha"/>…<paramref name="hd"/>) and
    /// which of the two low words each covers this is (<paramref name="parity"/>; <see cref="MmaPackedWeights"/>).</remarks>
    public readonly void Decode<TMma>(TMma mma, int bits, int j, uint wa, uint wb, uint wc, uint wd, out uint a0, out uint a1, out uint a2, out uint a3, out uint c0, out uint c1, out uint c2, out uint c3, bool scaled = true, uint ha = 0, uint hb = 0, uint hc = 0, uint hd = 0, int parity = 0, bool offset = false)
        where TMma : struct, TensorCoreMma.IMma
    {
        Ab.Decode(mma, bits, j, wa, wb, out a0, out a1, out a2, out a3, scaled, ha, hb, parity, offset);
        Cd.Decode(mma, bits, j, wc, wd, out c0, out c1, out c2, out c3, scaled, hc, hd, parity, offset);
    }
}

/// <summary>
/// The open group's decode constants for one lane's row g of two 8-row tiles (the rows g and g + 8 of one 16-row A
/// operand), and the decode of one k-block into that operand (<see cref="GroupDecode"/>).
/// </summary>
internal struct PairDecode
{
    /// <summary>Each tile's scale, as an f16 pair.</summary>
    public uint ScaleLow, ScaleHigh;

    /// <summary>−(1024·2^−s + zero) per tile for the code positions s = 0, 2, 4, 6 (those the width uses).</summary>
    public uint L0, L2, L4, L6, H0, H2, H4, H6;

    /// <summary>Each tile's zero point as a float, where the decode is offset (<see cref="TensorCoreMma.IMma.DecodeOffset"/>).</summary>
    public float ZeroLow, ZeroHigh;

    /// <summary>Opens a group from the two tiles' raw words (<see cref="GroupDecode.Take"/>); <paramref name="half"/> is
    /// 2^(bits−1), the zero point when <paramref name="symmetric"/>.</summary>
    public void Take<TMma>(uint scaleLow, uint scaleHigh, uint zeroLow, uint zeroHigh, int scaleShift, int zeroShift, bool symmetric, int half, bool offset = false)
        where TMma : struct, TensorCoreMma.IMma
    {
        ScaleLow = Duplicate(scaleLow >> scaleShift);
        ScaleHigh = Duplicate(scaleHigh >> scaleShift);
        int zl = symmetric ? half : (int)((zeroLow >> zeroShift) & 0xFF);
        int zh = symmetric ? half : (int)((zeroHigh >> zeroShift) & 0xFF);
        if (offset)
        {
            ZeroLow = zl;
            ZeroHigh = zh;
            return;
        }

        Biases(zl, out L0, out L2, out L4, out L6);
        Biases(zh, out H0, out H2, out H4, out H6);
    }

    /// <summary>
    /// k-block <paramref name="j"/> of this lane's words of the two tiles: its low pair (k = 2t, 2t+1) is pair 2j of
    /// the word, at bit 2j·b, its high pair (2t+8, 2t+9) pair 2j + 1; within a byte a pair's codes sit at bit s =
    /// position mod 8, so <c>(word &gt;&gt; 8·byte) &amp; mask·2^s | 0x6400</c> is 1024 + code·2^s. The A operand is
    /// <paramref name="a0"/>…<paramref name="a3"/> (rows g: tile <paramref name="low"/>, rows g + 8: tile
    /// <paramref name="high"/>); code − zero without the scale unless <paramref name="scaled"/> (a constant), or, where
    /// <paramref name="offset"/> (a constant), the <c>lop3</c> alone with 2^(10−s) in place of 1024: 2^(10−s) + code,
    /// exact, which the caller's f32 sums correct per group (<see cref="TensorCoreGemv.IVariant.OffsetDecode"/>), at the
    /// lifted positions <see cref="Positions"/> gives (4 and 6 only). 3-bit codes
    /// are laid out as 2-bit ones (b = 2 above) with their third bits in <paramref name="highBitsLow"/> and
    /// <paramref name="highBitsHigh"/> (this word's <paramref name="parity"/>; <see cref="MmaPackedWeights"/>): one shift
    /// brings them just above their low bits, and a select merges each pair's three bits before the same decode.
    /// </summary>
    public readonly void Decode<TMma>(TMma mma, int bits, int j, uint low, uint high, out uint a0, out uint a1, out uint a2, out uint a3, bool scaled = true, uint highBitsLow = 0, uint highBitsHigh = 0, int parity = 0, bool offset = false)
        where TMma : struct, TensorCoreMma.IMma
    {
        int width = MmaPackedWeights.WordBitsOf(bits);
        int lowPair = 2 * j * width, highPair = lowPair + width;
        int lowByte = lowPair >> 3, highByte = highPair >> 3;
        Positions(bits, j, offset, out int lowShift, out int highShift);
        int lowLift = lowShift - (lowPair & 7), highLift = highShift - (highPair & 7);
        uint mask = ((1u << bits) - 1) * 0x10001u;
        uint lowMask = mask << lowShift, highMask = mask << highShift;
        uint lowPower = ((uint)(15 - lowShift) << 10) * 0x10001u, highPower = ((uint)(15 - highShift) << 10) * 0x10001u;
        uint wl0 = Shift(low, (8 * lowByte) - lowLift), wh0 = Shift(high, (8 * lowByte) - lowLift);
        uint wl1 = Shift(low, (8 * highByte) - highLift), wh1 = Shift(high, (8 * highByte) - highLift);
        if (bits == 3)
        {
            // The pairs sit at s = 0, 2 (j even) or 4, 6 (j odd) of byte j / 2 (lifted: 4, 6 for both); their third
            // bits at s + 2 after the shift. Fields at s = 0 and 4 take bits s, s + 1 from the low word (select 0x33), at
            // 2 and 6 (0xCC). Both pairs of a k-block are lifted alike.
            int shift = (8 * lowByte) - lowLift + parity - 2;
            uint tl = Shift(highBitsLow, shift), th = Shift(highBitsHigh, shift);
            uint lowSelect = 0x33u * 0x10001u, highSelect = 0xCCu * 0x10001u;
            wl0 = mma.Select(wl0, tl, lowSelect);
            wh0 = mma.Select(wh0, th, lowSelect);
            wl1 = mma.Select(wl1, tl, highSelect);
            wh1 = mma.Select(wh1, th, highSelect);
        }

        if (offset)
        {
            uint lowMagic = Magic(lowShift), highMagic = Magic(highShift);
            a0 = mma.DecodeOffset(wl0, lowMask, lowMagic);
            a1 = mma.DecodeOffset(wh0, lowMask, lowMagic);
            a2 = mma.DecodeOffset(wl1, highMask, highMagic);
            a3 = mma.DecodeOffset(wh1, highMask, highMagic);
            return;
        }

        if (!scaled)
        {
            a0 = mma.Decode(wl0, lowMask, lowPower, Bias(L0, L2, L4, L6, lowShift));
            a1 = mma.Decode(wh0, lowMask, lowPower, Bias(H0, H2, H4, H6, lowShift));
            a2 = mma.Decode(wl1, highMask, highPower, Bias(L0, L2, L4, L6, highShift));
            a3 = mma.Decode(wh1, highMask, highPower, Bias(H0, H2, H4, H6, highShift));
            return;
        }

        a0 = mma.DecodeScaled(wl0, lowMask, lowPower, Bias(L0, L2, L4, L6, lowShift), ScaleLow);
        a1 = mma.DecodeScaled(wh0, lowMask, lowPower, Bias(H0, H2, H4, H6, lowShift), ScaleHigh);
        a2 = mma.DecodeScaled(wl1, highMask, highPower, Bias(L0, L2, L4, L6, highShift), ScaleLow);
        a3 = mma.DecodeScaled(wh1, highMask, highPower, Bias(H0, H2, H4, H6, highShift), ScaleHigh);
    }

    /// <summary>Bit positions s (0, 2, 4 or 6) of k-block <paramref name="j"/>'s low pair (k = 2t, 2t+1) and high pair
    /// (2t+8, 2t+9) within their byte of a word of <paramref name="bits"/>-bit codes (3-bit: as 2-bit).</summary>
    /// <remarks>Where <paramref name="lift"/>, positions 0 and 2 become 4 and 6 (the words are shifted 4 bits less to
    /// the right, or 4 to the left), so that an offset decode adds 64 or 16, not 1024 or 256
    /// (<see cref="TensorCoreGemv.IVariant.OffsetDecode"/>).</remarks>
    public static void Positions(int bits, int j, bool lift, out int lowShift, out int highShift)
    {
        int width = MmaPackedWeights.WordBitsOf(bits);
        lowShift = (2 * j * width) & 7;
        highShift = ((2 * j * width) + width) & 7;
        lowShift += lift && lowShift < 4 ? 4 : 0;
        highShift += lift && highShift < 4 ? 4 : 0;
    }

    /// <summary><paramref name="word"/> shifted right by <paramref name="by"/> bits, or left by −<paramref name="by"/>
    /// (a constant).</summary>
    private static uint Shift(uint word, int by) => by >= 0 ? word >> by : word << -by;

    /// <summary>2^(10−s) as an f16 pair: the value whose ulp is 1 at mantissa bit s, so that a code at bit s ORed into it
    /// reads 2^(10−s) + code (<see cref="TensorCoreMma.IMma.DecodeOffset"/>; 1024, 256, 64, 16 for s = 0, 2, 4, 6).</summary>
    public static uint Magic(int shift) => ((uint)(25 - shift) << 10) * 0x10001u;

    /// <summary>
    /// −(1024·2^−s + zero) as f16 pairs for the code positions s = 0, 2, 4, 6, built from their bits (no conversions: the
    /// float route was 8 conversions and 3 branches on the width per row and group): where zero &lt; 1024·2^−s,
    /// 1024·2^−s + zero lies in [1024·2^−s, 2048·2^−s), whose f16 ulp is 2^−s, so its bits are those of 1024·2^−s
    /// (0x6400 − 0x400·s) plus zero·2^s, and the sign bit negates it. That holds at every position a width uses (8-bit:
    /// 0; 4-bit: 0, 4, zero ≤ 15; 2- and 3-bit: 0, 2, 4, 6, zero ≤ 7); the other values are never read.
    /// </summary>
    internal static void Biases(int zero, out uint b0, out uint b2, out uint b4, out uint b6)
    {
        uint z = (uint)zero * 0x10001u;
        b0 = z + 0xE400E400u;
        b2 = (z << 2) + 0xDC00DC00u;
        b4 = (z << 4) + 0xD400D400u;
        b6 = (z << 6) + 0xCC00CC00u;
    }

    private static uint Duplicate(uint half) => (half & 0xFFFF) * 0x10001u;

    private static uint Bias(uint b0, uint b2, uint b4, uint b6, int shift)
        => shift == 0 ? b0 : shift == 2 ? b2 : shift == 4 ? b4 : b6;
}

/// <summary>
/// A lane's stream of group words in <see cref="MmaPackedWeights"/> order for the GEMM's kernels: the next group's raw
/// scale and zero words (<typeparamref name="TWord"/>: all four tiles' words as a quad, or two tiles' as a pair), where
/// they are, this lane's bit positions in them, and the k-blocks left in the open group.
/// </summary>
internal struct GroupWords<TWord>
    where TWord : unmanaged
{
    /// <summary>The next group's raw words (prefetched).</summary>
    public TWord NextScale, NextZero;

    /// <summary>Where the next group's words are (in <typeparamref name="TWord"/>s); this lane's bit positions.</summary>
    public int ScaleAt, ZeroAt, ScaleShift, ZeroShift;

    /// <summary>k-blocks left in the open group; per group; 1 when the zero point is fixed (no zero words).</summary>
    public int Left, GroupBlocks, Symmetric;

    /// <summary>Positions the stream at the group of k-block <paramref name="kb"/> of weight block
    /// <paramref name="block"/> for row g of its tiles: a group's scale words are 4 quads (a pair of rows each), its zero
    /// words 2 (four rows each), and a <typeparamref name="TWord"/> is 1/<paramref name="perQuad"/> of a quad, part
    /// <paramref name="part"/>.</summary>
    public void Start(TensorCoreGemmShape s, int g, int block, int kb, int perQuad, int part)
    {
        GroupBlocks = s.GroupBlocks;
        Symmetric = s.Symmetric;
        ScaleShift = 16 * (g & 1);
        ZeroShift = 8 * (g & 3);
        int at = (block * s.Groups) + (kb / s.GroupBlocks);
        ScaleAt = (((at * 4) + (g >> 1)) * perQuad) + part;
        ZeroAt = (((at * 2) + (g >> 2)) * perQuad) + part;
        Left = s.GroupBlocks - (kb % s.GroupBlocks);
    }

    /// <summary>Loads the next group's words (one load each); past the block's last group they are the next block's or
    /// the arrays' spare groups, unused.</summary>
    public void Prefetch(ArrayView<uint> scales, ArrayView<uint> zeros, int perQuad)
    {
        NextScale = scales.Cast<TWord>()[ScaleAt];
        ScaleAt += 4 * perQuad;
        if (Symmetric == 0)
        {
            NextZero = zeros.Cast<TWord>()[ZeroAt];
            ZeroAt += 2 * perQuad;
        }
    }
}
