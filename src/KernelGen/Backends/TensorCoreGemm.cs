using System;
using ILGPU;
using ILGPU.Runtime;
using KernelGen.Quantization;

namespace KernelGen.Backends;

/// <summary>
/// y[M, N] = x[M, K] · Wᵀ for M &gt; 16 (prefill) on tensor cores: each warp computes a 64 × 32 tile of y (four m16
/// tiles of activation rows × four n8 tiles of weight rows) with <c>mma.sync.m16n8k16</c> (f16 inputs, f32
/// accumulation), so every dequantized weight fragment serves 64 activation rows and every activation fragment 32
/// weight rows. A block is four warps on the same activation rows and 128 consecutive weight rows (so the activation
/// fragments come from L1 for three of them).
/// <para>
/// Numbers: A is x rounded to f16 (as for <see cref="TensorCoreGemv"/>); B is (code − zero) · scale rounded to f16 by
/// one <c>sub.f16x2</c> and one <c>mul.rn.f16x2</c> (the code difference is exact, the product rounds once: relative
/// error ≤ 2^−11 per weight, the price of keeping 64 f32 accumulators instead of 128 with per-group partial sums).
/// The accumulation is f32 over all of K.
/// </para>
/// <para>
/// ILGPU 1.5.3 does not unroll loops and gives one output per inline-asm statement, so the 4 × 4 tile is written
/// out, and each m16n8k16 is issued as two statements that each keep one half of D (rows g or g + 8): the tensor
/// cores do twice the work they need to, which is cheaper than ILGPU's by-reference asm operands (they go through
/// local memory: see docs/perf/gemm.md, v1 → v3).
/// </para>
/// </summary>
public sealed class TensorCoreGemm
{
    /// <summary>Activation rows per warp (four m16 tiles).</summary>
    public const int RowsM = 64;

    /// <summary>Weight rows per warp (four n8 tiles).</summary>
    public const int RowsN = 32;

    /// <summary>Warps per block, side by side along N.</summary>
    public const int Warps = 4;

    private readonly Action<KernelConfig, ArrayView<uint>, ArrayView<ushort>, ArrayView<uint>, ArrayView<uint>, ArrayView<float>, TensorCoreShape, int> gemm;
    private readonly int multiprocessors;
    private readonly Action<Index1D, ArrayView<float>, ArrayView<uint>, int, int> prepare;

    /// <summary>Compiles the kernels for <paramref name="accelerator"/> (whose warps must be 32 lanes wide).</summary>
    public TensorCoreGemm(Accelerator accelerator)
    {
        ArgumentNullException.ThrowIfNull(accelerator);
        if (accelerator.WarpSize != 32)
        {
            throw new NotSupportedException($"{accelerator.Name} has {accelerator.WarpSize}-lane warps; the mma fragments need 32.");
        }

        prepare = accelerator.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<uint>, int, int>(PrepareKernel);
        multiprocessors = Math.Max(1, accelerator.NumMultiprocessors);
        // CUDA: ILGPU's PTX with the local-memory round trips of the asm outputs forwarded (PtxPeephole), unless
        // disabled or this ILGPU does not allow it; elsewhere the shuffle emulation.
        var patched = accelerator.AcceleratorType == AcceleratorType.Cuda && PtxPeephole.Enabled
            ? PtxPeephole.LoadPatched<Action<AcceleratorStream, KernelConfig, ArrayView<uint>, ArrayView<ushort>, ArrayView<uint>, ArrayView<uint>, ArrayView<float>, TensorCoreShape, int>>(
                accelerator, typeof(TensorCoreGemm).GetMethod(nameof(GemmKernel), System.Reflection.BindingFlags.NonPublic | System.Reflection.BindingFlags.Static)!.MakeGenericMethod(typeof(TensorCoreMma.PtxMma)))
            : null;
        if (patched is not null)
        {
            gemm = (config, packed, scales, zeros, fragments, y, shape, splits) => patched(accelerator.DefaultStream, config, packed, scales, zeros, fragments, y, shape, splits);
        }
        else
        {
            gemm = accelerator.AcceleratorType == AcceleratorType.Cuda
                ? accelerator.LoadStreamKernel<ArrayView<uint>, ArrayView<ushort>, ArrayView<uint>, ArrayView<uint>, ArrayView<float>, TensorCoreShape, int>(GemmKernel<TensorCoreMma.PtxMma>)
                : accelerator.LoadStreamKernel<ArrayView<uint>, ArrayView<ushort>, ArrayView<uint>, ArrayView<uint>, ArrayView<float>, TensorCoreShape, int>(GemmKernel<TensorCoreMma.EmulatedMma>);
        }
    }

    /// <summary>True when the kernel handles <paramref name="scheme"/> at <paramref name="cols"/> K: 2-, 4- or 8-bit codes
    /// and groups of whole 32-wide k-block pairs (the loop takes two 16-wide k-blocks per step under one scale).</summary>
    public static bool Supports(QuantSchemeInfo scheme, int cols)
    {
        ArgumentNullException.ThrowIfNull(scheme);
        int group = scheme.IsPerChannel ? cols : scheme.GroupSize;
        return scheme.Bits is 2 or 4 or 8 && group % 32 == 0 && cols % 32 == 0;
    }

    /// <summary>Words of the fragment buffer <see cref="Run"/> needs: x in f16 for M rounded up to 64.</summary>
    public static long FragmentLength(int m, int cols) => (long)((m + RowsM - 1) / RowsM) * (RowsM / 16) * (cols / 16) * 32 * 4;

    /// <summary>y[M, N] = x[M, K] · Wᵀ. <paramref name="fragments"/> is scratch of <see cref="FragmentLength"/> words.</summary>
    public void Run(QuantDims dims, QuantSchemeInfo scheme, ArrayView<uint> packed, ArrayView<ushort> scales, ArrayView<uint> zeros,
        ArrayView<float> x, ArrayView<uint> fragments, ArrayView<float> y, int m)
    {
        ArgumentNullException.ThrowIfNull(scheme);
        if (m < 1 || !Supports(scheme, dims.Cols))
        {
            throw new ArgumentException($"The tensor-core GEMM takes M ≥ 1 rows of a 2-, 4- or 8-bit scheme with 32-aligned groups; got M = {m}, {scheme}.");
        }

        int k = dims.Cols, mTiles = (m + RowsM - 1) / RowsM * (RowsM / 16);
        if (fragments.Length < FragmentLength(m, k))
        {
            throw new ArgumentException($"The fragment buffer holds {fragments.Length} words; M = {m}, K = {k} needs {FragmentLength(m, k)}.", nameof(fragments));
        }

        prepare(mTiles * (k / 16) * 32, x, fragments, k, m);
        int group = scheme.IsPerChannel ? k : scheme.GroupSize;
        var shape = new TensorCoreShape(dims.Rows, k, scheme.Bits, group, k / group, scheme.Symmetric ? 1 : 0, m);
        int blocksN = (dims.Rows + (Warps * RowsN) - 1) / (Warps * RowsN), blocksM = (m + RowsM - 1) / RowsM;

        // Too few output tiles to fill the card (small M or N): split K across blocks, which add into a zeroed y.
        int splits = Math.Clamp((2 * multiprocessors) / (blocksN * blocksM), 1, k / 32);
        if (splits > 1)
        {
            y.SubView(0, (long)m * dims.Rows).MemSetToZero();
        }

        gemm(new KernelConfig(new Index3D(blocksN, blocksM, splits), new Index3D(Warps * 32, 1, 1)), packed, scales, zeros, fragments, y, shape, splits);
    }

    /// <summary>x[M, K] → A fragments in f16 for every m16 tile: word ((tile · K/16 + kb) · 32 + lane) · 4 + i holds, for
    /// lane (g, t), rows 16·tile + g and + 8 at columns 16·kb + 2t, +1 and + 8, + 9 (i = 0…3, as mma's a0…a3). Rows ≥ M are 0.</summary>
    internal static void PrepareKernel(Index1D index, ArrayView<float> x, ArrayView<uint> fragments, int k, int m)
    {
        int kBlocks = k / 16, lane = index % 32, kb = (index / 32) % kBlocks, tile = index / 32 / kBlocks;
        int g = lane >> 2, t = lane & 3, row = (tile * 16) + g, col = (kb * 16) + (2 * t);
        fragments[(index * 4) + 0] = Pair(x, row, col, k, m);
        fragments[(index * 4) + 1] = Pair(x, row + 8, col, k, m);
        fragments[(index * 4) + 2] = Pair(x, row, col + 8, k, m);
        fragments[(index * 4) + 3] = Pair(x, row + 8, col + 8, k, m);
    }

    private static uint Pair(ArrayView<float> x, int row, int col, int k, int m)
    {
        if (row >= m)
        {
            return 0;
        }

        long at = ((long)row * k) + col;
        return Fp16.FromFloat(x[at]) | ((uint)Fp16.FromFloat(x[at + 1]) << 16);
    }

    internal static void GemmKernel<TMma>(ArrayView<uint> packed, ArrayView<ushort> scales, ArrayView<uint> zeros, ArrayView<uint> fragments, ArrayView<float> y, TensorCoreShape s, int splits)
        where TMma : struct, TensorCoreMma.IMma
    {
        int lane = Warp.LaneIdx, g = lane >> 2, t = lane & 3;
        int n0 = ((Grid.IdxX * Warps) + Warp.WarpIdx) * RowsN;
        int tile0 = Grid.IdxY * (RowsM / 16);
        int kBlocks = s.Cols / 16;
        int perSplit = ((kBlocks + splits - 1) / splits + 1) & ~1; // even: the loop takes two k-blocks per step (K % 32 = 0)
        int kbStart = Math.Min(kBlocks, Grid.IdxZ * perSplit), kbEnd = Math.Min(kBlocks, kbStart + perSplit);
        bool tile1 = (tile0 + 1) * 16 < s.M, tile2 = (tile0 + 2) * 16 < s.M, tile3 = (tile0 + 3) * 16 < s.M; // tile 0 always has rows
        int wordsPerRow = s.Cols * s.Bits / 32;
        uint mask = (1u << s.Bits) - 1;
        int blocksPerGroup = s.GroupSize / 16;
        var mma = default(TMma);
        var quads = fragments.Cast<TensorCoreGemv.Quad>();

        // This lane's B rows (weight rows n0 + 8j + g), clamped: rows past N compute values that are never stored.
        int r0 = Math.Min(n0 + 0 + g, s.Rows - 1);
        int r1 = Math.Min(n0 + 8 + g, s.Rows - 1);
        int r2 = Math.Min(n0 + 16 + g, s.Rows - 1);
        int r3 = Math.Min(n0 + 24 + g, s.Rows - 1);
        long w0 = (long)r0 * wordsPerRow, w1 = (long)r1 * wordsPerRow, w2 = (long)r2 * wordsPerRow, w3 = (long)r3 * wordsPerRow;

        // Accumulators: m tile i, n tile j; p = rows g (columns 2t, 2t + 1), q = rows g + 8.
        ulong p00 = 0, q00 = 0, p01 = 0, q01 = 0, p02 = 0, q02 = 0, p03 = 0, q03 = 0;
        ulong p10 = 0, q10 = 0, p11 = 0, q11 = 0, p12 = 0, q12 = 0, p13 = 0, q13 = 0;
        ulong p20 = 0, q20 = 0, p21 = 0, q21 = 0, p22 = 0, q22 = 0, p23 = 0, q23 = 0;
        ulong p30 = 0, q30 = 0, p31 = 0, q31 = 0, p32 = 0, q32 = 0, p33 = 0, q33 = 0;
        uint o0 = 0, c0 = 0, o1 = 0, c1 = 0, o2 = 0, c2 = 0, o3 = 0, c3 = 0;
        for (int kb = kbStart; kb < kbEnd; kb += 2)
        {
            if (kb == kbStart || kb % blocksPerGroup == 0)
            {
                // A new group: each tile's zero offset (1024 + zero) and scale, as f16 pairs.
                int group = kb / blocksPerGroup;
                o0 = TensorCoreMma.Offset(zeros, s, r0, group);
                c0 = ScalePair(scales, s, r0, group);
                o1 = TensorCoreMma.Offset(zeros, s, r1, group);
                c1 = ScalePair(scales, s, r1, group);
                o2 = TensorCoreMma.Offset(zeros, s, r2, group);
                c2 = ScalePair(scales, s, r2, group);
                o3 = TensorCoreMma.Offset(zeros, s, r3, group);
                c3 = ScalePair(scales, s, r3, group);
            }

            // B: for k-blocks kb and kb + 1, codes k, k + 1 (low word) and k + 8, k + 9 (high word) of each tile's row,
            // dequantized to f16.
            int bit0 = (((kb + 0) * 16) + (2 * t)) * s.Bits, high0 = bit0 + (8 * s.Bits);
            int lowWord0 = bit0 >> 5, highWord0 = high0 >> 5, lowShift0 = bit0 & 31, highShift0 = high0 & 31;
            int bit1 = (((kb + 1) * 16) + (2 * t)) * s.Bits, high1 = bit1 + (8 * s.Bits);
            int lowWord1 = bit1 >> 5, highWord1 = high1 >> 5, lowShift1 = bit1 & 31, highShift1 = high1 & 31;
            uint b000 = mma.Dequantize(TensorCoreMma.Codes(packed[w0 + lowWord0] >> lowShift0, s.Bits, mask), o0, c0);
            uint b001 = mma.Dequantize(TensorCoreMma.Codes(packed[w0 + highWord0] >> highShift0, s.Bits, mask), o0, c0);
            uint b010 = mma.Dequantize(TensorCoreMma.Codes(packed[w0 + lowWord1] >> lowShift1, s.Bits, mask), o0, c0);
            uint b011 = mma.Dequantize(TensorCoreMma.Codes(packed[w0 + highWord1] >> highShift1, s.Bits, mask), o0, c0);
            uint b100 = mma.Dequantize(TensorCoreMma.Codes(packed[w1 + lowWord0] >> lowShift0, s.Bits, mask), o1, c1);
            uint b101 = mma.Dequantize(TensorCoreMma.Codes(packed[w1 + highWord0] >> highShift0, s.Bits, mask), o1, c1);
            uint b110 = mma.Dequantize(TensorCoreMma.Codes(packed[w1 + lowWord1] >> lowShift1, s.Bits, mask), o1, c1);
            uint b111 = mma.Dequantize(TensorCoreMma.Codes(packed[w1 + highWord1] >> highShift1, s.Bits, mask), o1, c1);
            uint b200 = mma.Dequantize(TensorCoreMma.Codes(packed[w2 + lowWord0] >> lowShift0, s.Bits, mask), o2, c2);
            uint b201 = mma.Dequantize(TensorCoreMma.Codes(packed[w2 + highWord0] >> highShift0, s.Bits, mask), o2, c2);
            uint b210 = mma.Dequantize(TensorCoreMma.Codes(packed[w2 + lowWord1] >> lowShift1, s.Bits, mask), o2, c2);
            uint b211 = mma.Dequantize(TensorCoreMma.Codes(packed[w2 + highWord1] >> highShift1, s.Bits, mask), o2, c2);
            uint b300 = mma.Dequantize(TensorCoreMma.Codes(packed[w3 + lowWord0] >> lowShift0, s.Bits, mask), o3, c3);
            uint b301 = mma.Dequantize(TensorCoreMma.Codes(packed[w3 + highWord0] >> highShift0, s.Bits, mask), o3, c3);
            uint b310 = mma.Dequantize(TensorCoreMma.Codes(packed[w3 + lowWord1] >> lowShift1, s.Bits, mask), o3, c3);
            uint b311 = mma.Dequantize(TensorCoreMma.Codes(packed[w3 + highWord1] >> highShift1, s.Bits, mask), o3, c3);

            int f0 = ((((tile0 + 0) * kBlocks) + kb) * 32 + lane) * 4;
            var qa0 = quads[f0 / 4];
            var qe0 = quads[(f0 / 4) + 32]; // one 16-byte load per lane and k-block
            uint a00 = qa0.X, a01 = qa0.Y, a02 = qa0.Z, a03 = qa0.W;
            uint e00 = qe0.X, e01 = qe0.Y, e02 = qe0.Z, e03 = qe0.W;
            mma.MultiplyFull2(ref p00, ref q00, a00, a01, a02, a03, b000, b001, e00, e01, e02, e03, b010, b011);
            mma.MultiplyFull2(ref p01, ref q01, a00, a01, a02, a03, b100, b101, e00, e01, e02, e03, b110, b111);
            mma.MultiplyFull2(ref p02, ref q02, a00, a01, a02, a03, b200, b201, e00, e01, e02, e03, b210, b211);
            mma.MultiplyFull2(ref p03, ref q03, a00, a01, a02, a03, b300, b301, e00, e01, e02, e03, b310, b311);

            if (tile1)
            {
                int f1 = ((((tile0 + 1) * kBlocks) + kb) * 32 + lane) * 4;
                var qa1 = quads[f1 / 4];
                var qe1 = quads[(f1 / 4) + 32]; // one 16-byte load per lane and k-block
                uint a10 = qa1.X, a11 = qa1.Y, a12 = qa1.Z, a13 = qa1.W;
                uint e10 = qe1.X, e11 = qe1.Y, e12 = qe1.Z, e13 = qe1.W;
                mma.MultiplyFull2(ref p10, ref q10, a10, a11, a12, a13, b000, b001, e10, e11, e12, e13, b010, b011);
                mma.MultiplyFull2(ref p11, ref q11, a10, a11, a12, a13, b100, b101, e10, e11, e12, e13, b110, b111);
                mma.MultiplyFull2(ref p12, ref q12, a10, a11, a12, a13, b200, b201, e10, e11, e12, e13, b210, b211);
                mma.MultiplyFull2(ref p13, ref q13, a10, a11, a12, a13, b300, b301, e10, e11, e12, e13, b310, b311);
            }

            if (tile2)
            {
                int f2 = ((((tile0 + 2) * kBlocks) + kb) * 32 + lane) * 4;
                var qa2 = quads[f2 / 4];
                var qe2 = quads[(f2 / 4) + 32]; // one 16-byte load per lane and k-block
                uint a20 = qa2.X, a21 = qa2.Y, a22 = qa2.Z, a23 = qa2.W;
                uint e20 = qe2.X, e21 = qe2.Y, e22 = qe2.Z, e23 = qe2.W;
                mma.MultiplyFull2(ref p20, ref q20, a20, a21, a22, a23, b000, b001, e20, e21, e22, e23, b010, b011);
                mma.MultiplyFull2(ref p21, ref q21, a20, a21, a22, a23, b100, b101, e20, e21, e22, e23, b110, b111);
                mma.MultiplyFull2(ref p22, ref q22, a20, a21, a22, a23, b200, b201, e20, e21, e22, e23, b210, b211);
                mma.MultiplyFull2(ref p23, ref q23, a20, a21, a22, a23, b300, b301, e20, e21, e22, e23, b310, b311);
            }

            if (tile3)
            {
                int f3 = ((((tile0 + 3) * kBlocks) + kb) * 32 + lane) * 4;
                var qa3 = quads[f3 / 4];
                var qe3 = quads[(f3 / 4) + 32]; // one 16-byte load per lane and k-block
                uint a30 = qa3.X, a31 = qa3.Y, a32 = qa3.Z, a33 = qa3.W;
                uint e30 = qe3.X, e31 = qe3.Y, e32 = qe3.Z, e33 = qe3.W;
                mma.MultiplyFull2(ref p30, ref q30, a30, a31, a32, a33, b000, b001, e30, e31, e32, e33, b010, b011);
                mma.MultiplyFull2(ref p31, ref q31, a30, a31, a32, a33, b100, b101, e30, e31, e32, e33, b110, b111);
                mma.MultiplyFull2(ref p32, ref q32, a30, a31, a32, a33, b200, b201, e30, e31, e32, e33, b210, b211);
                mma.MultiplyFull2(ref p33, ref q33, a30, a31, a32, a33, b300, b301, e30, e31, e32, e33, b310, b311);
            }
        }

        Store(y, s, splits > 1, ((tile0 + 0) * 16) + g, n0 + 0 + (2 * t), p00, q00);
        Store(y, s, splits > 1, ((tile0 + 0) * 16) + g, n0 + 8 + (2 * t), p01, q01);
        Store(y, s, splits > 1, ((tile0 + 0) * 16) + g, n0 + 16 + (2 * t), p02, q02);
        Store(y, s, splits > 1, ((tile0 + 0) * 16) + g, n0 + 24 + (2 * t), p03, q03);
        Store(y, s, splits > 1, ((tile0 + 1) * 16) + g, n0 + 0 + (2 * t), p10, q10);
        Store(y, s, splits > 1, ((tile0 + 1) * 16) + g, n0 + 8 + (2 * t), p11, q11);
        Store(y, s, splits > 1, ((tile0 + 1) * 16) + g, n0 + 16 + (2 * t), p12, q12);
        Store(y, s, splits > 1, ((tile0 + 1) * 16) + g, n0 + 24 + (2 * t), p13, q13);
        Store(y, s, splits > 1, ((tile0 + 2) * 16) + g, n0 + 0 + (2 * t), p20, q20);
        Store(y, s, splits > 1, ((tile0 + 2) * 16) + g, n0 + 8 + (2 * t), p21, q21);
        Store(y, s, splits > 1, ((tile0 + 2) * 16) + g, n0 + 16 + (2 * t), p22, q22);
        Store(y, s, splits > 1, ((tile0 + 2) * 16) + g, n0 + 24 + (2 * t), p23, q23);
        Store(y, s, splits > 1, ((tile0 + 3) * 16) + g, n0 + 0 + (2 * t), p30, q30);
        Store(y, s, splits > 1, ((tile0 + 3) * 16) + g, n0 + 8 + (2 * t), p31, q31);
        Store(y, s, splits > 1, ((tile0 + 3) * 16) + g, n0 + 16 + (2 * t), p32, q32);
        Store(y, s, splits > 1, ((tile0 + 3) * 16) + g, n0 + 24 + (2 * t), p33, q33);
    }

    /// <summary>A row's group scale as an f16 pair (the scales are stored as f16 bits).</summary>
    private static uint ScalePair(ArrayView<ushort> scales, TensorCoreShape s, int row, int group)
    {
        uint half = scales[((long)row * s.GroupsPerRow) + group];
        return half | (half << 16);
    }

    /// <summary>D fragment → y: (m, n), (m, n + 1) from p; (m + 8, n), (m + 8, n + 1) from q; added atomically when K
    /// is split across blocks.</summary>
    private static void Store(ArrayView<float> y, TensorCoreShape s, bool add, int m, int n, ulong p, ulong q)
    {
        if (n < s.Rows)
        {
            if (m < s.M)
            {
                Put(y, ((long)m * s.Rows) + n, Interop.IntAsFloat((uint)p), add);
            }

            if (m + 8 < s.M)
            {
                Put(y, ((long)(m + 8) * s.Rows) + n, Interop.IntAsFloat((uint)q), add);
            }
        }

        if (n + 1 < s.Rows)
        {
            if (m < s.M)
            {
                Put(y, ((long)m * s.Rows) + n + 1, Interop.IntAsFloat((uint)(p >> 32)), add);
            }

            if (m + 8 < s.M)
            {
                Put(y, ((long)(m + 8) * s.Rows) + n + 1, Interop.IntAsFloat((uint)(q >> 32)), add);
            }
        }
    }

    private static void Put(ArrayView<float> y, long at, float value, bool add)
    {
        if (add)
        {
            Atomic.Add(ref y[at], value);
        }
        else
        {
            y[at] = value;
        }
    }
}
