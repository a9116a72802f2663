using System;
using ILGPU;
using ILGPU.Runtime;
using KernelGen.Quantization;

namespace KernelGen.Backends;

/// <summary>Shape of one <see cref="TensorCoreGemv"/> launch (see <see cref="MmaPackedWeights"/> for the terms).</summary>
public readonly record struct TensorCoreGemvShape(int Rows, int Cols, int Bits, int Tiles, int Slabs, int Groups, int BlocksPerGroup, int Symmetric, int M);

/// <summary>
/// Decode and small-batch y[M, N] = x[M, K] · Wᵀ (1 ≤ M ≤ 16) on tensor cores over weights in
/// <see cref="MmaPackedWeights"/> order. Each warp streams 4 tiles (32 weight rows) over its share of K with one
/// 16-byte load per tile and slab, turns every code pair into an f16 B register with one mask-and-or, and multiplies
/// by <c>mma.sync.m16n8k16</c> with f32 accumulation; the warps of a group split K and meet in shared memory. x is read
/// in f32 and rounded to f16 in the kernel (one launch).
/// <para>
/// Exactness: B holds codes minus the zero point, exact in f16 ((1024 + code) − (1024 + zero) by <c>sub.f16x2</c>); the
/// scale multiplies the f32 sum of each group. A holds x rounded to f16 (relative error ≤ 2^−11): the only rounding
/// beyond f32. On CUDA the mma is inline PTX; elsewhere (ILGPU's CPU accelerator with 32-lane warps, which the tests
/// use) the same fragment exchange is emulated with warp shuffles.
/// </para>
/// </summary>
public sealed class TensorCoreGemv
{
    /// <summary>Tiles of 8 rows per group (all its warps work on the same rows).</summary>
    public const int TilesPerGroup = 4;

    /// <summary>Warps per group, each on a contiguous share of the slabs.</summary>
    public const int WarpsPerGroup = 8;

    private readonly Accelerator accelerator;
    private readonly System.Collections.Concurrent.ConcurrentDictionary<(int Bits, bool Upper), Action<KernelConfig, ArrayView<uint>, ArrayView<uint>, ArrayView<uint>, ArrayView<float>, ArrayView<float>, TensorCoreGemvShape>> kernels = new();

    /// <summary>Prepares the kernels for <paramref name="accelerator"/> (whose warps must be 32 lanes wide); each bit
    /// width and M range (≤ 8 or more) is compiled on first use.</summary>
    public TensorCoreGemv(Accelerator accelerator)
    {
        ArgumentNullException.ThrowIfNull(accelerator);
        if (accelerator.WarpSize != 32)
        {
            throw new NotSupportedException($"{accelerator.Name} has {accelerator.WarpSize}-lane warps; the mma fragments need 32.");
        }

        this.accelerator = accelerator;
    }

    /// <summary>y[M, N] = x[M, K] · Wᵀ for 1 ≤ <paramref name="m"/> ≤ 16, W on the device as <paramref name="weights"/>
    /// describes it (its <see cref="MmaPackedWeights.Packed"/>, <see cref="MmaPackedWeights.Scales"/> and
    /// <see cref="MmaPackedWeights.Zeros"/>, or one word when symmetric).</summary>
    public void Run(MmaPackedWeights weights, ArrayView<uint> packed, ArrayView<uint> scales, ArrayView<uint> zeros, ArrayView<float> x, ArrayView<float> y, int m)
    {
        ArgumentNullException.ThrowIfNull(weights);
        if (m < 1 || m > 16)
        {
            throw new ArgumentOutOfRangeException(nameof(m), m, "The packed tensor-core GEMV takes 1 to 16 activation rows; use the GEMM for more.");
        }

        if (x.Length < (long)m * weights.Cols || y.Length < (long)m * weights.Rows)
        {
            throw new ArgumentException(FormattableString.Invariant(
                $"x holds {x.Length} and y {y.Length} values; M = {m} with a [{weights.Rows} × {weights.Cols}] weight needs {(long)m * weights.Cols} and {(long)m * weights.Rows}."));
        }

        var shape = new TensorCoreGemvShape(weights.Rows, weights.Cols, weights.Bits, weights.Tiles, weights.Slabs, weights.Groups,
            weights.GroupSize / 16, weights.Symmetric ? 1 : 0, m);
        var kernel = kernels.GetOrAdd((weights.Bits, m > 8), static (key, self) => self.Load(key.Bits, key.Upper), this);
        kernel(new KernelConfig((weights.Tiles + TilesPerGroup - 1) / TilesPerGroup, WarpsPerGroup * 32), packed, scales, zeros, x, y, shape);
    }

    private Action<KernelConfig, ArrayView<uint>, ArrayView<uint>, ArrayView<uint>, ArrayView<float>, ArrayView<float>, TensorCoreGemvShape> Load(int bits, bool upper)
    {
        var variant = (bits, upper) switch
        {
            (2, false) => typeof(B2),
            (2, true) => typeof(B2Upper),
            (4, false) => typeof(B4),
            (4, true) => typeof(B4Upper),
            (8, false) => typeof(B8),
            _ => typeof(B8Upper),
        };
        bool cuda = accelerator.AcceleratorType == AcceleratorType.Cuda;
        var method = typeof(TensorCoreGemv).GetMethod(nameof(GemvKernel), System.Reflection.BindingFlags.NonPublic | System.Reflection.BindingFlags.Static)!
            .MakeGenericMethod(cuda ? typeof(TensorCoreMma.PtxMma) : typeof(TensorCoreMma.EmulatedMma), variant);

        // CUDA: ILGPU's PTX with the local-memory round trips of the asm outputs forwarded (PtxPeephole), unless
        // disabled or this ILGPU does not allow it; elsewhere the shuffle emulation.
        var patched = cuda && PtxPeephole.Enabled
            ? PtxPeephole.LoadPatched<Action<AcceleratorStream, KernelConfig, ArrayView<uint>, ArrayView<uint>, ArrayView<uint>, ArrayView<float>, ArrayView<float>, TensorCoreGemvShape>>(accelerator, method)
            : null;
        if (patched is not null)
        {
            return (config, packed, scales, zeros, x, y, shape) => patched(accelerator.DefaultStream, config, packed, scales, zeros, x, y, shape);
        }

        var launcher = accelerator.LoadStreamKernel(method.CreateDelegate<Action<ArrayView<uint>, ArrayView<uint>, ArrayView<uint>, ArrayView<float>, ArrayView<float>, TensorCoreGemvShape>>());
        return (config, packed, scales, zeros, x, y, shape) => launcher(config, packed, scales, zeros, x, y, shape);
    }

    /// <summary>What a kernel is specialized for: the code width (so the word walk is constant) and whether activation
    /// rows 8–15 exist (so M ≤ 8 carries no second set of accumulators).</summary>
    internal interface IVariant
    {
        int Bits { get; }

        bool Upper { get; }
    }

    internal readonly struct B2 : IVariant
    {
        public int Bits => 2;

        public bool Upper => false;
    }

    internal readonly struct B2Upper : IVariant
    {
        public int Bits => 2;

        public bool Upper => true;
    }

    internal readonly struct B4 : IVariant
    {
        public int Bits => 4;

        public bool Upper => false;
    }

    internal readonly struct B4Upper : IVariant
    {
        public int Bits => 4;

        public bool Upper => true;
    }

    internal readonly struct B8 : IVariant
    {
        public int Bits => 8;

        public bool Upper => false;
    }

    internal readonly struct B8Upper : IVariant
    {
        public int Bits => 8;

        public bool Upper => true;
    }

    /// <summary>16 bytes: one lane's words of one tile and slab.</summary>
    internal struct Quad
    {
        public uint X;
        public uint Y;
        public uint Z;
        public uint W;
    }

    /// <summary>Two consecutive floats (one 8-byte load).</summary>
    internal struct Pair
    {
        public float Low;
        public float High;
    }

    internal static void GemvKernel<TMma, TVariant>(ArrayView<uint> packed, ArrayView<uint> scales, ArrayView<uint> zeros, ArrayView<float> x, ArrayView<float> y, TensorCoreGemvShape s)
        where TMma : struct, TensorCoreMma.IMma
        where TVariant : struct, IVariant
    {
        var mma = default(TMma);
        int bits = default(TVariant).Bits, blocksPerWord = 8 / bits;
        bool upper = default(TVariant).Upper;
        int lane = Warp.LaneIdx, g = lane >> 2, t = lane & 3, warp = Warp.WarpIdx;
        int tile0 = Grid.IdxX * TilesPerGroup;

        // Rows past N (whole padding tiles) read the last tile again; their sums are never stored.
        int ta = Math.Min(tile0, s.Tiles - 1), tb = Math.Min(tile0 + 1, s.Tiles - 1), tc = Math.Min(tile0 + 2, s.Tiles - 1), td = Math.Min(tile0 + 3, s.Tiles - 1);
        int perWarp = (s.Slabs + WarpsPerGroup - 1) / WarpsPerGroup;
        int slabStart = Math.Min(s.Slabs, warp * perWarp), slabEnd = Math.Min(s.Slabs, slabStart + perWarp);
        uint pairMask = ((1u << bits) - 1) * 0x10001u;
        bool lowRow = g < s.M, highRow = g + 8 < s.M;
        var quads = packed.Cast<Quad>();
        var pairs = x.Cast<Pair>();

        // Accumulators: tile j, this lane's columns 2t, 2t+1 (weight rows 8j + 2t, +1) at activation rows g (…0, …1)
        // and g + 8 (…2, …3). p/q: the open group's f32 sums (rows g / g + 8), packed low-first.
        float a00 = 0, a01 = 0, a02 = 0, a03 = 0, a10 = 0, a11 = 0, a12 = 0, a13 = 0;
        float a20 = 0, a21 = 0, a22 = 0, a23 = 0, a30 = 0, a31 = 0, a32 = 0, a33 = 0;
        ulong p0 = 0, p1 = 0, p2 = 0, p3 = 0, q0 = 0, q1 = 0, q2 = 0, q3 = 0;

        int kb = slabStart * (32 / bits);
        int group = kb / s.BlocksPerGroup, left = s.BlocksPerGroup - (kb % s.BlocksPerGroup);
        int first = Math.Min(group, s.Groups - 1); // a warp with no slabs starts past the end
        uint o0 = Offset(zeros, s, ta, first, g), o1 = Offset(zeros, s, tb, first, g), o2 = Offset(zeros, s, tc, first, g), o3 = Offset(zeros, s, td, first, g);

        // Loaded a group ahead of use, so no k-block waits on memory for them: this group's scales (used when it
        // ends) and the next group's zero points.
        uint s0 = ScalePair(scales, s, ta, group, t), s1 = ScalePair(scales, s, tb, group, t), s2 = ScalePair(scales, s, tc, group, t), s3 = ScalePair(scales, s, td, group, t);
        int second = Math.Min(group + 1, s.Groups - 1);
        uint n0 = Offset(zeros, s, ta, second, g), n1 = Offset(zeros, s, tb, second, g), n2 = Offset(zeros, s, tc, second, g), n3 = Offset(zeros, s, td, second, g);

        // x as float pairs: this lane's pair of k-block kb is at rowBase + 8·kb + t (and + 4 for k + 8); the next
        // k-block's pairs are loaded while this one is multiplied.
        int rowLow = g * s.Cols / 2, rowHigh = (g + 8) * s.Cols / 2, kPairs = s.Cols / 2;
        int xk = (kb * 8) + t;
        Pair xl = default, xh = default, ul = default, uh = default;
        if (lowRow && xk < kPairs)
        {
            xl = pairs[rowLow + xk];
            xh = pairs[rowLow + xk + 4];
        }

        if (upper && highRow && xk < kPairs)
        {
            ul = pairs[rowHigh + xk];
            uh = pairs[rowHigh + xk + 4];
        }

        // The next slab's words are loaded while this one is computed.
        long step = (long)s.Slabs * 32, ia = ((long)ta * step) + ((long)slabStart * 32) + lane;
        long ib = ((long)tb * step) + ((long)slabStart * 32) + lane, ic = ((long)tc * step) + ((long)slabStart * 32) + lane, id = ((long)td * step) + ((long)slabStart * 32) + lane;
        Quad na = default, nb = default, nc = default, nd = default;
        if (slabStart < slabEnd)
        {
            na = quads[ia];
            nb = quads[ib];
            nc = quads[ic];
            nd = quads[id];
        }

        for (int slab = slabStart; slab < slabEnd; slab++)
        {
            uint ca = na.X, cb = nb.X, cc = nc.X, cd = nd.X;
            uint ra1 = na.Y, ra2 = na.Z, ra3 = na.W, rb1 = nb.Y, rb2 = nb.Z, rb3 = nb.W;
            uint rc1 = nc.Y, rc2 = nc.Z, rc3 = nc.W, rd1 = nd.Y, rd2 = nd.Z, rd3 = nd.W;
            if (slab + 1 < slabEnd)
            {
                ia += 32;
                ib += 32;
                ic += 32;
                id += 32;
                na = quads[ia];
                nb = quads[ib];
                nc = quads[ic];
                nd = quads[id];
            }

            // Four words per tile, each 8/b k-blocks: the current word shifts right 2b bits per k-block, then the
            // queue moves up.
            for (int w = 0; w < 4; w++)
            {
                for (int j = 0; j < blocksPerWord; j++)
                {
                    // A: x rows g (and g + 8) at k = 2t, 2t+1 and 2t+8, 2t+9 of this k-block, rounded to f16 pairs.
                    uint aLow = mma.Pack(xl.Low, xl.High), aHigh = mma.Pack(xh.Low, xh.High), bLow = 0, bHigh = 0;
                    if (upper)
                    {
                        bLow = mma.Pack(ul.Low, ul.High);
                        bHigh = mma.Pack(uh.Low, uh.High);
                    }

                    xk += 8;
                    if (lowRow && xk < kPairs)
                    {
                        xl = pairs[rowLow + xk];
                        xh = pairs[rowLow + xk + 4];
                    }
                    else
                    {
                        xl = default;
                        xh = default;
                    }

                    if (upper && highRow && xk < kPairs)
                    {
                        ul = pairs[rowHigh + xk];
                        uh = pairs[rowHigh + xk + 4];
                    }

                    uint ba0 = (ca & pairMask) | 0x64006400u, ba1 = ((ca >> bits) & pairMask) | 0x64006400u;
                    uint bb0 = (cb & pairMask) | 0x64006400u, bb1 = ((cb >> bits) & pairMask) | 0x64006400u;
                    uint bc0 = (cc & pairMask) | 0x64006400u, bc1 = ((cc >> bits) & pairMask) | 0x64006400u;
                    uint bd0 = (cd & pairMask) | 0x64006400u, bd1 = ((cd >> bits) & pairMask) | 0x64006400u;
                    if (upper)
                    {
                        // One mma for all 16 activation rows.
                        mma.RunFull(ref p0, ref q0, aLow, bLow, aHigh, bHigh, ba0, ba1, o0);
                        mma.RunFull(ref p1, ref q1, aLow, bLow, aHigh, bHigh, bb0, bb1, o1);
                        mma.RunFull(ref p2, ref q2, aLow, bLow, aHigh, bHigh, bc0, bc1, o2);
                        mma.RunFull(ref p3, ref q3, aLow, bLow, aHigh, bHigh, bd0, bd1, o3);
                    }
                    else
                    {
                        p0 = mma.Run(p0, aLow, aHigh, ba0, ba1, o0);
                        p1 = mma.Run(p1, aLow, aHigh, bb0, bb1, o1);
                        p2 = mma.Run(p2, aLow, aHigh, bc0, bc1, o2);
                        p3 = mma.Run(p3, aLow, aHigh, bd0, bd1, o3);
                    }

                    ca >>= 2 * bits;
                    cb >>= 2 * bits;
                    cc >>= 2 * bits;
                    cd >>= 2 * bits;
                    if (--left == 0)
                    {
                        // The group ends: its scale times its sums, into the accumulators; then the next group's zeros.
                        Accumulate(mma, upper, s0, p0, q0, ref a00, ref a01, ref a02, ref a03);
                        Accumulate(mma, upper, s1, p1, q1, ref a10, ref a11, ref a12, ref a13);
                        Accumulate(mma, upper, s2, p2, q2, ref a20, ref a21, ref a22, ref a23);
                        Accumulate(mma, upper, s3, p3, q3, ref a30, ref a31, ref a32, ref a33);
                        p0 = p1 = p2 = p3 = q0 = q1 = q2 = q3 = 0;
                        group++;
                        left = s.BlocksPerGroup;
                        o0 = n0;
                        o1 = n1;
                        o2 = n2;
                        o3 = n3;
                        s0 = ScalePair(scales, s, ta, group, t);
                        s1 = ScalePair(scales, s, tb, group, t);
                        s2 = ScalePair(scales, s, tc, group, t);
                        s3 = ScalePair(scales, s, td, group, t);
                        int next = Math.Min(group + 1, s.Groups - 1);
                        n0 = Offset(zeros, s, ta, next, g);
                        n1 = Offset(zeros, s, tb, next, g);
                        n2 = Offset(zeros, s, tc, next, g);
                        n3 = Offset(zeros, s, td, next, g);
                    }
                }

                ca = ra1;
                ra1 = ra2;
                ra2 = ra3;
                cb = rb1;
                rb1 = rb2;
                rb2 = rb3;
                cc = rc1;
                rc1 = rc2;
                rc2 = rc3;
                cd = rd1;
                rd1 = rd2;
                rd2 = rd3;
            }
        }

        // This warp's share may end inside a group.
        if (left != s.BlocksPerGroup)
        {
            Accumulate(mma, upper, s0, p0, q0, ref a00, ref a01, ref a02, ref a03);
            Accumulate(mma, upper, s1, p1, q1, ref a10, ref a11, ref a12, ref a13);
            Accumulate(mma, upper, s2, p2, q2, ref a20, ref a21, ref a22, ref a23);
            Accumulate(mma, upper, s3, p3, q3, ref a30, ref a31, ref a32, ref a33);
        }

        // Sum the warps' partial results: 16 values per lane.
        var partial = SharedMemory.Allocate<float>(WarpsPerGroup * 32 * 16);
        int at = ((warp * 32) + lane) * 16;
        partial[at + 0] = a00;
        partial[at + 1] = a01;
        partial[at + 2] = a02;
        partial[at + 3] = a03;
        partial[at + 4] = a10;
        partial[at + 5] = a11;
        partial[at + 6] = a12;
        partial[at + 7] = a13;
        partial[at + 8] = a20;
        partial[at + 9] = a21;
        partial[at + 10] = a22;
        partial[at + 11] = a23;
        partial[at + 12] = a30;
        partial[at + 13] = a31;
        partial[at + 14] = a32;
        partial[at + 15] = a33;
        Group.Barrier();

        // Warp w sums and stores tile w % 4's values for activation rows g (w < 4) or g + 8 (w ≥ 4).
        int tile = warp & 3, half = warp >> 2;
        float c0 = 0, c1 = 0;
        for (int w = 0; w < WarpsPerGroup; w++)
        {
            int from = ((((w * 32) + lane) * 16) + (tile * 4)) + (half * 2);
            c0 += partial[from];
            c1 += partial[from + 1];
        }

        int row = ((tile0 + tile) * MmaPackedWeights.TileRows) + (2 * t), m = g + (8 * half);
        if (m < s.M)
        {
            if (row < s.Rows)
            {
                y[((long)m * s.Rows) + row] = c0;
            }

            if (row + 1 < s.Rows)
            {
                y[((long)m * s.Rows) + row + 1] = c1;
            }
        }
    }

    /// <summary>1024 + zero of row 8·tile + g as an f16 pair: what the mma subtracts from B.</summary>
    private static uint Offset(ArrayView<uint> zeros, TensorCoreGemvShape s, int tile, int group, int g)
    {
        uint zero = s.Symmetric != 0
            ? 1u << (s.Bits - 1)
            : (zeros[((((long)tile * s.Groups) + group) * 2) + (g >> 2)] >> (8 * (g & 3))) & 0xFFu;
        return (0x6400u + zero) * 0x10001u;
    }

    /// <summary>The f16 scales of rows 8·tile + 2t, +1 in one word; 0 past the last group.</summary>
    private static uint ScalePair(ArrayView<uint> scales, TensorCoreGemvShape s, int tile, int group, int t)
        => group < s.Groups ? scales[((((long)tile * s.Groups) + group) * 4) + t] : 0u;

    /// <summary>Ends a group for one tile: c0, c1 (rows g) += scale · p, and when activation rows 8–15 exist c2, c3
    /// (rows g + 8) += scale · q, at the lane's columns 2t, 2t+1 (<paramref name="scalePair"/> holds their f16 scales).</summary>
    private static void Accumulate<TMma>(TMma mma, bool upper, uint scalePair, ulong p, ulong q, ref float c0, ref float c1, ref float c2, ref float c3)
        where TMma : struct, TensorCoreMma.IMma
    {
        ulong scale = mma.Widen(scalePair);
        float s0 = Interop.IntAsFloat((uint)scale), s1 = Interop.IntAsFloat((uint)(scale >> 32));
        c0 += s0 * Interop.IntAsFloat((uint)p);
        c1 += s1 * Interop.IntAsFloat((uint)(p >> 32));
        if (upper)
        {
            c2 += s0 * Interop.IntAsFloat((uint)q);
            c3 += s1 * Interop.IntAsFloat((uint)(q >> 32));
        }
    }
}
