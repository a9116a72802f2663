using ILGPU;

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
    /// <summary>Each tile's scale, as an f16 pair.</summary>
    public uint ScaleA, ScaleB, ScaleC, ScaleD;

    /// <summary>−(1024·2^−s + zero) per tile for the code positions s = 0, 2, 4, 6 (those the width uses).</summary>
    public uint A0, A2, A4, A6, B0, B2, B4, B6, C0, C2, C4, C6, D0, D2, D4, D6;

    /// <summary>Opens a group from its raw words: <paramref name="scales"/> holds the four tiles' f16 scale words
    /// (this lane's row at bit <paramref name="scaleShift"/>), <paramref name="zeros"/> their zero-point bytes (at bit
    /// <paramref name="zeroShift"/>; ignored when <paramref name="symmetric"/>: the zero is 2^(bits−1)).</summary>
    public void Take<TMma>(TensorCoreGemv.Quad scales, TensorCoreGemv.Quad zeros, int scaleShift, int zeroShift, bool symmetric, int bits)
        where TMma : struct, TensorCoreMma.IMma
    {
        ScaleA = Duplicate(scales.X >> scaleShift);
        ScaleB = Duplicate(scales.Y >> scaleShift);
        ScaleC = Duplicate(scales.Z >> scaleShift);
        ScaleD = Duplicate(scales.W >> scaleShift);
        int half = 1 << (bits - 1);
        int za = symmetric ? half : (int)((zeros.X >> zeroShift) & 0xFF);
        int zb = symmetric ? half : (int)((zeros.Y >> zeroShift) & 0xFF);
        int zc = symmetric ? half : (int)((zeros.Z >> zeroShift) & 0xFF);
        int zd = symmetric ? half : (int)((zeros.W >> zeroShift) & 0xFF);
        Biases<TMma>(bits, za, out A0, out A2, out A4, out A6);
        Biases<TMma>(bits, zb, out B0, out B2, out B4, out B6);
        Biases<TMma>(bits, zc, out C0, out C2, out C4, out C6);
        Biases<TMma>(bits, zd, out D0, out D2, out D4, out D6);
    }

    /// <summary>
    /// k-block <paramref name="j"/> of this lane's words of tiles a–d: its low pair (k = 2t, 2t+1) is pair 2j of the
    /// word, at bit 2j·b, its high pair (2t+8, 2t+9) pair 2j + 1; within a byte a pair's codes sit at bit s = position
    /// mod 8, so <c>(word &gt;&gt; 8·byte) &amp; mask·2^s | 0x6400</c> is 1024 + code·2^s. A operand ab is
    /// <paramref name="a0"/>…<paramref name="a3"/> (rows g: tile a, rows g + 8: tile b), cd is <paramref name="c0"/>…
    /// <paramref name="c3"/>.
    /// </summary>
    public readonly void Decode<TMma>(TMma mma, int bits, int j, uint wa, uint wb, uint wc, uint wd, out uint a0, out uint a1, out uint a2, out uint a3, out uint c0, out uint c1, out uint c2, out uint c3)
        where TMma : struct, TensorCoreMma.IMma
    {
        int low = 2 * j * bits, high = low + bits;
        int lowByte = low >> 3, highByte = high >> 3, lowShift = low & 7, highShift = high & 7;
        uint mask = ((1u << bits) - 1) * 0x10001u;
        uint lowMask = mask << lowShift, highMask = mask << highShift;
        uint lowPower = ((uint)(15 - lowShift) << 10) * 0x10001u, highPower = ((uint)(15 - highShift) << 10) * 0x10001u;
        a0 = mma.DecodeScaled(wa >> (8 * lowByte), lowMask, lowPower, Bias(A0, A2, A4, A6, lowShift), ScaleA);
        a1 = mma.DecodeScaled(wb >> (8 * lowByte), lowMask, lowPower, Bias(B0, B2, B4, B6, lowShift), ScaleB);
        a2 = mma.DecodeScaled(wa >> (8 * highByte), highMask, highPower, Bias(A0, A2, A4, A6, highShift), ScaleA);
        a3 = mma.DecodeScaled(wb >> (8 * highByte), highMask, highPower, Bias(B0, B2, B4, B6, highShift), ScaleB);
        c0 = mma.DecodeScaled(wc >> (8 * lowByte), lowMask, lowPower, Bias(C0, C2, C4, C6, lowShift), ScaleC);
        c1 = mma.DecodeScaled(wd >> (8 * lowByte), lowMask, lowPower, Bias(D0, D2, D4, D6, lowShift), ScaleD);
        c2 = mma.DecodeScaled(wc >> (8 * highByte), highMask, highPower, Bias(C0, C2, C4, C6, highShift), ScaleC);
        c3 = mma.DecodeScaled(wd >> (8 * highByte), highMask, highPower, Bias(D0, D2, D4, D6, highShift), ScaleD);
    }

    /// <summary>−(1024·2^−s + zero) as f16 pairs for the positions s the code width uses (8-bit: 0; 4-bit: 0, 4;
    /// 2-bit: 0, 2, 4, 6): exact integers below 2048.</summary>
    private static void Biases<TMma>(int bits, int zero, out uint b0, out uint b2, out uint b4, out uint b6)
        where TMma : struct, TensorCoreMma.IMma
    {
        var mma = default(TMma);
        float f0 = -(1024 + zero), f2 = -(256 + zero), f4 = -(64 + zero), f6 = -(16 + zero);
        b0 = mma.Pack(f0, f0);
        b2 = bits == 2 ? mma.Pack(f2, f2) : 0;
        b4 = bits <= 4 ? mma.Pack(f4, f4) : 0;
        b6 = bits == 2 ? mma.Pack(f6, f6) : 0;
    }

    private static uint Duplicate(uint half) => (half & 0xFFFF) * 0x10001u;

    private static uint Bias(uint b0, uint b2, uint b4, uint b6, int shift)
        => shift == 0 ? b0 : shift == 2 ? b2 : shift == 4 ? b4 : b6;
}
