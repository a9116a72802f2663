using System;
using ILGPU;
using ILGPU.Runtime;

namespace KernelGen.Backends;

/// <summary>
/// 8-bit codes with x rounded to int8, M = 1 to 16. A code is a byte already, so the tile words go into the integer mma
/// as they are loaded (<c>mma.sync.m16n8k32.s32.u8.s8</c>: no masks, no shifts, no conversions): an 8-bit slab (4
/// k-blocks, one unit of 64 columns) is two mmas per tile pair and group of 8 rows of x, against x's words of the unit
/// in the weights' byte order (k-block w, lane t: columns 16w + 4t, 4t + 2, 4t + 1, 4t + 3; <see cref="QuantizeBatchKernel{TMma}"/>
/// with mode 2). A warp takes its slabs two at a time, a unit pair that shares x's scale (<see cref="XBlockCols"/>), in
/// the two register sets of the other kernels, and flushes once per pair where the weight group spans it (or holds the
/// row). At M = 1 every lane reads x's row 0, so all eight columns of D carry it and lane t = 0's column is the one kept.
/// </summary>
public sealed partial class Int8ActivationGemv
{
    private readonly System.Collections.Concurrent.ConcurrentDictionary<(bool Symmetric, int Warps, bool Two, bool Shared, bool PerChannel), Action<KernelConfig, ArrayView<uint>, ArrayView<uint>, ArrayView<uint>, ArrayView<uint>, ArrayView<float>, Int8ActivationBatchShape>> byteKernels = new();

    private Action<KernelConfig, ArrayView<uint>, ArrayView<uint>, ArrayView<uint>, ArrayView<uint>, ArrayView<float>, Int8ActivationBatchShape> ByteKernel(MmaPackedWeights weights, int warps, int m, int unitShift)
        => byteKernels.GetOrAdd(
            (weights.Symmetric, warps, m > 8, unitShift >= 1, weights.GroupSize == weights.Cols),
            static (key, self) => self.LoadKernel<Int8ActivationBatchShape>(nameof(ByteKernel), Flag(key.Symmetric), TensorCoreGemv.ConstantType(key.Warps), Flag(key.Two), Flag(key.Shared), Flag(key.PerChannel)),
            this);

    /// <summary>
    /// One warp over 8-bit codes: the block's 4 tiles (32 rows) for 1, 8 or 16 rows of x (<typeparamref name="TTwo"/>:
    /// two groups of 8), slabs two at a time from an even first one (a unit pair: one x block). The next slab's weights
    /// are in flight while a slab is multiplied, in two register sets taking turns; both loads are issued whether or not
    /// their slab exists (predicated, as the 4-bit batch's are): a pair's second unit past K multiplies x's zeros there.
    /// Group constants are loaded once per warp for one group per row (<typeparamref name="TPerChannel"/>), else with x at
    /// the top of each pair.
    /// </summary>
    internal static void ByteKernel<TMma, TSymmetric, TWarps, TTwo, TShared, TPerChannel>(ArrayView<uint> packed, ArrayView<uint> scales, ArrayView<uint> zeros, ArrayView<uint> words, ArrayView<float> y, Int8ActivationBatchShape s, ulong packedAddress)
        where TMma : struct, TensorCoreMma.IMma
        where TSymmetric : struct, TensorCoreGemv.IConstant
        where TWarps : struct, TensorCoreGemv.IConstant
        where TTwo : struct, TensorCoreGemv.IConstant
        where TShared : struct, TensorCoreGemv.IConstant
        where TPerChannel : struct, TensorCoreGemv.IConstant
    {
        var mma = default(TMma);
        mma.UseOperands(mma.AllocateOperands()); // first, by every thread: the emulated mma's exchange
        int lane = Warp.LaneIdx, g = lane >> 2, t = lane & 3, warp = Warp.WarpIdx, block = Grid.IdxX;
        int tile0 = block * MmaPackedWeights.TileBlock;
        int warps = default(TWarps).Value;
        bool two = default(TTwo).Value == 1, shared = default(TShared).Value == 1;
        int perWarp = (((s.Slabs + warps - 1) / warps) + 1) & ~1; // whole unit pairs
        int slabStart = Math.Min(s.Slabs, warp * perWarp), slabEnd = Math.Min(s.Slabs, slabStart + perWarp);
        var quads = packed.Cast<TensorCoreGemv.Quad>();
        var scaleQuads = scales.Cast<TensorCoreGemv.Quad>();
        var zeroQuads = zeros.Cast<TensorCoreGemv.Quad>();
        var xQuads = words.Cast<TensorCoreGemv.Quad>();
        long tiles = (long)tile0 * s.Slabs * 32;
        int step = s.Slabs * 32;
        int laneScale = (block * s.Groups * 4) + (g >> 1), laneZero = (block * s.Groups * 2) + (g >> 2);
        long xRow0 = (((long)(s.M == 1 ? 0 : g) * s.Units) * 4) + t, xRow1 = ((((long)g + 8) * s.Units) * 4) + t;
        long meta = (long)MaxRows * s.Units * 4;
        int scaleShift = 16 * (g & 1), zeroShift = 8 * (g & 3);
        const float SymmetricZero = 128f;

        var current = default(BatchSlab);
        var groups = default(BatchSlab);
        var rows0 = default(RowScales);
        if (slabStart < slabEnd)
        {
            LoadBatchSlab<TMma, TensorCoreGemv.C8, TSymmetric, TShared, TensorCoreGemv.C1>(mma, quads, scaleQuads, zeroQuads, packedAddress, 0, 0, tiles, 0, step, lane, laneScale, laneZero, s, ref current, slabStart, slabEnd);
            if (default(TPerChannel).Value == 1)
            {
                LoadGroups<TSymmetric, TensorCoreGemv.C1>(scaleQuads, zeroQuads, laneScale, laneZero, s, ref groups, 0);
                rows0 = Decode<TMma, TSymmetric>(mma, groups.S0, groups.Z0, scaleShift, zeroShift, SymmetricZero);
            }
        }

        mma.WaitForPrimary(); // x's rounding, launched just before (programmatic dependent launch)
        var first = default(BatchSums);
        var second = default(BatchSums);
        var other = default(BatchSlab);
        for (int slab = slabStart; slab < slabEnd; slab += 2)
        {
            LoadBatchSlab<TMma, TensorCoreGemv.C8, TSymmetric, TShared, TensorCoreGemv.C1>(mma, quads, scaleQuads, zeroQuads, packedAddress, 0, 0, tiles, 0, step, lane, laneScale, laneZero, s, ref other, slab + 1, slabEnd);

            int pair = slab >> 1;
            long scaleAt = meta + ((((long)pair * 8) + t) * 2);
            var x0 = LoadX<TShared>(xQuads, xRow0 + (pair * 8L), scaleAt);
            var x1 = two ? LoadX<TShared>(xQuads, xRow1 + (pair * 8L), scaleAt + 8) : default;
            var rows1 = rows0;
            if (default(TPerChannel).Value == 0)
            {
                LoadGroups<TSymmetric, TShared>(scaleQuads, zeroQuads, laneScale, laneZero, s, ref groups, pair);
                rows0 = Decode<TMma, TSymmetric>(mma, groups.S0, groups.Z0, scaleShift, zeroShift, SymmetricZero);
                rows1 = shared ? rows0 : Decode<TMma, TSymmetric>(mma, groups.S1, groups.Z1, scaleShift, zeroShift, SymmetricZero);
            }

            ulong p = 0, q = 0, u = 0, v = 0, p1 = 0, q1 = 0, u1 = 0, v1 = 0;
            ByteMmas(mma, current, x0.W0, ref p, ref q, ref u, ref v);
            if (two)
            {
                ByteMmas(mma, current, x1.W0, ref p1, ref q1, ref u1, ref v1);
            }

            if (!shared)
            {
                FlushBytes(p, q, u, v, x0.Scales.X, x0.Scales.Y, x0.Zeros.X, x0.Zeros.Y, rows0, ref first);
                p = q = u = v = 0;
                if (two)
                {
                    FlushBytes(p1, q1, u1, v1, x1.Scales.X, x1.Scales.Y, x1.Zeros.X, x1.Zeros.Y, rows0, ref second);
                    p1 = q1 = u1 = v1 = 0;
                }
            }

            LoadBatchSlab<TMma, TensorCoreGemv.C8, TSymmetric, TShared, TensorCoreGemv.C1>(mma, quads, scaleQuads, zeroQuads, packedAddress, 0, 0, tiles, 0, step, lane, laneScale, laneZero, s, ref current, slab + 2, slabEnd);
            ByteMmas(mma, other, x0.W1, ref p, ref q, ref u, ref v);
            FlushBytes(p, q, u, v, x0.Scales.X, x0.Scales.Y, x0.Zeros.Z, x0.Zeros.W, rows1, ref first);
            if (two)
            {
                ByteMmas(mma, other, x1.W1, ref p1, ref q1, ref u1, ref v1);
                FlushBytes(p1, q1, u1, v1, x1.Scales.X, x1.Scales.Y, x1.Zeros.Z, x1.Zeros.W, rows1, ref second);
            }
        }

        StoreBatch<TWarps>(y, s, tile0, warp, t, g, two, first, second);
    }

    /// <summary>sums += scale·sx·(U − zero·Σ q) for the lane's four rows (tiles a: p, b: q, c: u, d: v) and its two x rows,
    /// with the zero point taken off the exact integer sums (<paramref name="sumBits0"/>, <paramref name="sumBits1"/>: Σ q
    /// of x rows 2t, 2t + 1 as integers, <see cref="QuantizeBatchKernel{TMma}"/>'s placement 2). In f32 after scaling, as
    /// the narrower codes do it, U and 128·Σ q cancel where x has one sign: on the CPU accelerator the worst error per row
    /// was 2.1–6.0e-7 of Σ |w·x| so, 1.0–1.2e-7 this way (Int8ActivationGemvTests).</summary>
    private static void FlushBytes(ulong p, ulong q, ulong u, ulong v, uint sxBits0, uint sxBits1, uint sumBits0, uint sumBits1, RowScales r, ref BatchSums sums)
    {
        float sx0 = Interop.IntAsFloat(sxBits0), sx1 = Interop.IntAsFloat(sxBits1);
        int s0 = (int)sumBits0, s1 = (int)sumBits1;
        int za = (int)r.ZA, zb = (int)r.ZB, zc = (int)r.ZC, zd = (int)r.ZD;
        sums.A0 += r.A * sx0 * (Low(p) - (za * s0));
        sums.A1 += r.A * sx1 * (High(p) - (za * s1));
        sums.B0 += r.B * sx0 * (Low(q) - (zb * s0));
        sums.B1 += r.B * sx1 * (High(q) - (zb * s1));
        sums.C0 += r.C * sx0 * (Low(u) - (zc * s0));
        sums.C1 += r.C * sx1 * (High(u) - (zc * s1));
        sums.D0 += r.D * sx0 * (Low(v) - (zd * s0));
        sums.D1 += r.D * sx1 * (High(v) - (zd * s1));
    }

    /// <summary>One 8-bit unit (a slab: k-blocks 0…3 in each tile quad's X…W) for one group of 8 rows of x
    /// (<paramref name="x"/>: this lane's words of k-blocks 0…3): tiles a, b into <paramref name="p"/>, <paramref name="q"/>,
    /// tiles c, d into <paramref name="u"/>, <paramref name="v"/>.</summary>
    private static void ByteMmas<TMma>(TMma mma, BatchSlab c, TensorCoreGemv.Quad x, ref ulong p, ref ulong q, ref ulong u, ref ulong v)
        where TMma : struct, TensorCoreMma.IMma
    {
        mma.MultiplyInt8(ref p, ref q, c.A.X, c.B.X, c.A.Y, c.B.Y, x.X, x.Y);
        mma.MultiplyInt8(ref p, ref q, c.A.Z, c.B.Z, c.A.W, c.B.W, x.Z, x.W);
        mma.MultiplyInt8(ref u, ref v, c.C.X, c.D.X, c.C.Y, c.D.Y, x.X, x.Y);
        mma.MultiplyInt8(ref u, ref v, c.C.Z, c.D.Z, c.C.W, c.D.W, x.Z, x.W);
    }
}
