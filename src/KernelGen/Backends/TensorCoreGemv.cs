using System;
using ILGPU;
using ILGPU.Runtime;
using ILGPU.Runtime.Cuda;
using KernelGen.Quantization;

namespace KernelGen.Backends;

/// <summary>Shape of one <see cref="TensorCoreGemv"/> launch.</summary>
/// <param name="Rows">N (weight rows, outputs per activation row).</param>
/// <param name="Cols">K (a multiple of 32).</param>
/// <param name="Bits">Bits per code: 2, 4 or 8.</param>
/// <param name="GroupSize">Weights per scale along K (per-channel: K).</param>
/// <param name="GroupsPerRow">K / GroupSize.</param>
/// <param name="Symmetric">1 when the zero point is fixed at 2^(bits−1).</param>
/// <param name="M">Activation rows, 1 to 16.</param>
public readonly record struct TensorCoreShape(int Rows, int Cols, int Bits, int GroupSize, int GroupsPerRow, int Symmetric, int M);

/// <summary>
/// Small-batch y[M, N] = x[M, K] · Wᵀ (M ≤ 16) on tensor cores: each group of 8 warps streams 32 weight rows once
/// (each warp an eighth of K) and multiplies them with all M activation rows by <c>mma.sync.m16n8k16</c> (f16 inputs,
/// f32 accumulation), so the cost stays the weight bytes, as for M = 1, instead of growing with M.
/// <para>
/// Exactness: B holds integer codes minus the zero point, exact in f16 (formed as (0x6400 | code) − (0x6400 + zero)
/// by one <c>sub.f16x2</c>, no int-to-float conversion); the group's scale is applied to the f32 partial sums once per
/// group. A holds x rounded to f16 (relative error ≤ 2^−11): the only rounding beyond f32.
/// </para>
/// <para>
/// On CUDA the mma is one inline-PTX instruction (<c>CudaAsm.EmitRef</c> with Ref/Input operands). Elsewhere (ILGPU's CPU accelerator with
/// 32-lane warps, which the tests use) the same fragment exchange is emulated with warp shuffles, so the fragment
/// bookkeeping is tested without a GPU; only the asm string itself needs one.
/// </para>
/// </summary>
public sealed class TensorCoreGemv
{
    /// <summary>Warps per group: all work on the group's 32 rows, each on a contiguous eighth of K.</summary>
    public const int SplitK = 8;

    /// <summary>Warps per group (the CPU accelerator used by tests must allow this many).</summary>
    public const int WarpsPerGroup = SplitK;

    /// <summary>Rows per group: four n8 tiles.</summary>
    public const int RowsPerWarp = 32;

    private readonly Accelerator accelerator;
    private readonly Action<Index1D, ArrayView<float>, ArrayView<uint>, int, int> prepare;
    private readonly Action<KernelConfig, ArrayView<uint>, ArrayView<ushort>, ArrayView<uint>, ArrayView<uint>, ArrayView<float>, TensorCoreShape> gemv;

    /// <summary>Compiles the kernels for <paramref name="accelerator"/> (whose warps must be 32 lanes wide).</summary>
    public TensorCoreGemv(Accelerator accelerator)
    {
        ArgumentNullException.ThrowIfNull(accelerator);
        if (accelerator.WarpSize != 32)
        {
            throw new NotSupportedException($"{accelerator.Name} has {accelerator.WarpSize}-lane warps; the mma fragments need 32.");
        }

        this.accelerator = accelerator;
        prepare = accelerator.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<uint>, int, int>(TensorCoreGemm.PrepareKernel); // one m16 tile
        // CUDA gets the kernel with the inline-PTX mma only; other accelerators the shuffle emulation.
        // CUDA: ILGPU's PTX with the local-memory round trips of the asm outputs forwarded (PtxPeephole), unless
        // disabled or this ILGPU does not allow it; elsewhere the shuffle emulation.
        var patched = accelerator.AcceleratorType == AcceleratorType.Cuda && PtxPeephole.Enabled
            ? PtxPeephole.LoadPatched<Action<AcceleratorStream, KernelConfig, ArrayView<uint>, ArrayView<ushort>, ArrayView<uint>, ArrayView<uint>, ArrayView<float>, TensorCoreShape>>(
                accelerator, typeof(TensorCoreGemv).GetMethod(nameof(GemvKernel), System.Reflection.BindingFlags.NonPublic | System.Reflection.BindingFlags.Static)!.MakeGenericMethod(typeof(PtxMma)))
            : null;
        if (patched is not null)
        {
            gemv = (config, packed, scales, zeros, fragments, y, shape) => patched(accelerator.DefaultStream, config, packed, scales, zeros, fragments, y, shape);
        }
        else
        {
            gemv = accelerator.AcceleratorType == AcceleratorType.Cuda
                ? accelerator.LoadStreamKernel<ArrayView<uint>, ArrayView<ushort>, ArrayView<uint>, ArrayView<uint>, ArrayView<float>, TensorCoreShape>(GemvKernel<PtxMma>)
                : accelerator.LoadStreamKernel<ArrayView<uint>, ArrayView<ushort>, ArrayView<uint>, ArrayView<uint>, ArrayView<float>, TensorCoreShape>(GemvKernel<EmulatedMma>);
        }
    }

    /// <summary>True when the kernel handles <paramref name="scheme"/> at <paramref name="cols"/> K: 2-, 4- or 8-bit
    /// codes (whole codes per byte pair) and groups that are whole multiples of 16.</summary>
    public static bool Supports(QuantSchemeInfo scheme, int cols)
    {
        ArgumentNullException.ThrowIfNull(scheme);
        int group = scheme.IsPerChannel ? cols : scheme.GroupSize;
        return scheme.Bits is 2 or 4 or 8 && group % 16 == 0 && cols % 32 == 0;
    }

    /// <summary>Elements of the fragment buffer <see cref="Run"/> needs for <paramref name="cols"/> K.</summary>
    public static long FragmentLength(int cols) => (long)cols / 16 * 32 * 4;

    /// <summary>y[M, N] = x[M, K] · Wᵀ. <paramref name="fragments"/> is scratch of <see cref="FragmentLength"/> words.</summary>
    public void Run(QuantDims dims, QuantSchemeInfo scheme, ArrayView<uint> packed, ArrayView<ushort> scales, ArrayView<uint> zeros,
        ArrayView<float> x, ArrayView<uint> fragments, ArrayView<float> y, int m)
    {
        ArgumentNullException.ThrowIfNull(scheme);
        if (m < 1 || m > 16 || !Supports(scheme, dims.Cols))
        {
            throw new ArgumentException($"The tensor-core GEMV takes 1 to 16 rows of a 2-, 4- or 8-bit scheme with 16-aligned groups; got M = {m}, {scheme}.");
        }

        int k = dims.Cols;
        prepare(k / 16 * 32, x, fragments, k, m);
        int group = scheme.IsPerChannel ? k : scheme.GroupSize;
        var shape = new TensorCoreShape(dims.Rows, k, scheme.Bits, group, k / group, scheme.Symmetric ? 1 : 0, m);
        gemv(new KernelConfig((dims.Rows + RowsPerWarp - 1) / RowsPerWarp, SplitK * 32), packed, scales, zeros, fragments, y, shape);
    }

    internal static void GemvKernel<TMma>(ArrayView<uint> packed, ArrayView<ushort> scales, ArrayView<uint> zeros, ArrayView<uint> fragments, ArrayView<float> y, TensorCoreShape s)
        where TMma : struct, IMma
    {
        // All warps of a group share 32 rows and split K between them (contiguous ranges of 16-wide k-blocks); the
        // partial results meet in shared memory at the end.
        int lane = Warp.LaneIdx, g = lane >> 2, t = lane & 3, warp = Warp.WarpIdx;
        int row0 = Grid.IdxX * RowsPerWarp;
        int wordsPerRow = s.Cols * s.Bits / 32;
        uint mask = (1u << s.Bits) - 1;
        int blocksPerGroup = s.GroupSize / 16;
        int kBlocks = s.Cols / 16;
        int perWarp = (kBlocks + SplitK - 1) / SplitK;
        int kbStart = Math.Min(kBlocks, warp * perWarp), kbEnd = Math.Min(kBlocks, kbStart + perWarp);
        bool upper = s.M > 8; // rows 8…15 of A exist

        // This lane's B row in each of the four n8 tiles (clamped: rows past N compute garbage that is never stored).
        long w0 = (long)Math.Min(row0 + g, s.Rows - 1) * wordsPerRow, w1 = (long)Math.Min(row0 + 8 + g, s.Rows - 1) * wordsPerRow;
        long w2 = (long)Math.Min(row0 + 16 + g, s.Rows - 1) * wordsPerRow, w3 = (long)Math.Min(row0 + 24 + g, s.Rows - 1) * wordsPerRow;

        // Accumulators of this lane's outputs: tile j, columns 2t and 2t+1 (weight rows row0 + 8j + 2t, +1), activation
        // rows g (…0, …1) and g + 8 (…2, …3).
        float acc00 = 0, acc01 = 0, acc02 = 0, acc03 = 0, acc10 = 0, acc11 = 0, acc12 = 0, acc13 = 0;
        float acc20 = 0, acc21 = 0, acc22 = 0, acc23 = 0, acc30 = 0, acc31 = 0, acc32 = 0, acc33 = 0;

        // B holds code + 1024 (f16 bits 0x6400 | code: no conversion); the mma subtracts 1024 + zero in f16 first
        // (both exact, so the difference is the exact integer code − zero).
        ulong p0 = 0, p1 = 0, p2 = 0, p3 = 0, q0 = 0, q1 = 0, q2 = 0, q3 = 0;
        int group = Math.Min(kbStart / blocksPerGroup, s.GroupsPerRow - 1); // a warp may get no k-blocks when K is small
        uint z0 = Offset(zeros, s, w0 / wordsPerRow, group), z1 = Offset(zeros, s, w1 / wordsPerRow, group);
        uint z2 = Offset(zeros, s, w2 / wordsPerRow, group), z3 = Offset(zeros, s, w3 / wordsPerRow, group);
        for (int kb = kbStart; kb < kbEnd; kb++)
        {
            int f = ((kb * 32) + lane) * 4;
            uint a0 = fragments[f], a1 = fragments[f + 1], a2 = fragments[f + 2], a3 = fragments[f + 3];

            // B: codes k, k+1 (low word) and k+8, k+9 (high word) of each tile's row, as (1024 + code) f16 pairs.
            int bit = ((kb * 16) + (2 * t)) * s.Bits;
            int high = bit + (8 * s.Bits);
            int lowWord = bit >> 5, highWord = high >> 5, lowShift = bit & 31, highShift = high & 31;
            uint b00 = Codes(packed[w0 + lowWord] >> lowShift, s.Bits, mask), b01 = Codes(packed[w0 + highWord] >> highShift, s.Bits, mask);
            uint b10 = Codes(packed[w1 + lowWord] >> lowShift, s.Bits, mask), b11 = Codes(packed[w1 + highWord] >> highShift, s.Bits, mask);
            uint b20 = Codes(packed[w2 + lowWord] >> lowShift, s.Bits, mask), b21 = Codes(packed[w2 + highWord] >> highShift, s.Bits, mask);
            uint b30 = Codes(packed[w3 + lowWord] >> lowShift, s.Bits, mask), b31 = Codes(packed[w3 + highWord] >> highShift, s.Bits, mask);
            p0 = default(TMma).Run(p0, a0, a2, b00, b01, z0);
            p1 = default(TMma).Run(p1, a0, a2, b10, b11, z1);
            p2 = default(TMma).Run(p2, a0, a2, b20, b21, z2);
            p3 = default(TMma).Run(p3, a0, a2, b30, b31, z3);
            if (upper)
            {
                q0 = default(TMma).Run(q0, a1, a3, b00, b01, z0);
                q1 = default(TMma).Run(q1, a1, a3, b10, b11, z1);
                q2 = default(TMma).Run(q2, a1, a3, b20, b21, z2);
                q3 = default(TMma).Run(q3, a1, a3, b30, b31, z3);
            }

            // At a group's end (or this warp's): scale the group's sums into the accumulators.
            if (kb + 1 == kbEnd || (kb + 1) % blocksPerGroup == 0)
            {
                Accumulate(scales, s, row0 + (2 * t), group, p0, q0, ref acc00, ref acc01, ref acc02, ref acc03);
                Accumulate(scales, s, row0 + 8 + (2 * t), group, p1, q1, ref acc10, ref acc11, ref acc12, ref acc13);
                Accumulate(scales, s, row0 + 16 + (2 * t), group, p2, q2, ref acc20, ref acc21, ref acc22, ref acc23);
                Accumulate(scales, s, row0 + 24 + (2 * t), group, p3, q3, ref acc30, ref acc31, ref acc32, ref acc33);
                p0 = p1 = p2 = p3 = q0 = q1 = q2 = q3 = 0;
                if (kb + 1 < kbEnd)
                {
                    group++;
                    z0 = Offset(zeros, s, w0 / wordsPerRow, group);
                    z1 = Offset(zeros, s, w1 / wordsPerRow, group);
                    z2 = Offset(zeros, s, w2 / wordsPerRow, group);
                    z3 = Offset(zeros, s, w3 / wordsPerRow, group);
                }
            }
        }

        // Sum the warps' partial results: 16 values per lane.
        var partial = SharedMemory.Allocate<float>(SplitK * 32 * 16);
        int at = ((warp * 32) + lane) * 16;
        partial[at + 0] = acc00;
        partial[at + 1] = acc01;
        partial[at + 2] = acc02;
        partial[at + 3] = acc03;
        partial[at + 4] = acc10;
        partial[at + 5] = acc11;
        partial[at + 6] = acc12;
        partial[at + 7] = acc13;
        partial[at + 8] = acc20;
        partial[at + 9] = acc21;
        partial[at + 10] = acc22;
        partial[at + 11] = acc23;
        partial[at + 12] = acc30;
        partial[at + 13] = acc31;
        partial[at + 14] = acc32;
        partial[at + 15] = acc33;
        Group.Barrier();
        if (warp == 0)
        {
            for (int w = 1; w < SplitK; w++)
            {
                int from = ((w * 32) + lane) * 16;
                acc00 += partial[from + 0];
                acc01 += partial[from + 1];
                acc02 += partial[from + 2];
                acc03 += partial[from + 3];
                acc10 += partial[from + 4];
                acc11 += partial[from + 5];
                acc12 += partial[from + 6];
                acc13 += partial[from + 7];
                acc20 += partial[from + 8];
                acc21 += partial[from + 9];
                acc22 += partial[from + 10];
                acc23 += partial[from + 11];
                acc30 += partial[from + 12];
                acc31 += partial[from + 13];
                acc32 += partial[from + 14];
                acc33 += partial[from + 15];
            }

            Store(y, s, row0 + (2 * t), g, acc00, acc01, acc02, acc03);
            Store(y, s, row0 + 8 + (2 * t), g, acc10, acc11, acc12, acc13);
            Store(y, s, row0 + 16 + (2 * t), g, acc20, acc21, acc22, acc23);
            Store(y, s, row0 + 24 + (2 * t), g, acc30, acc31, acc32, acc33);
        }
    }

    /// <summary>1024 + zero as an f16 pair (bits 0x6400 + zero), what the mma subtracts from B.</summary>
    internal static uint Offset(ArrayView<uint> zeros, TensorCoreShape s, long row, int group)
    {
        uint half = 0x6400u + (uint)Zero(zeros, s, (int)row, group);
        return half | (half << 16);
    }

    /// <summary>Two consecutive codes (at the word's low end) as f16 pairs of 1024 + code: 0x6400 | code, exact.</summary>
    internal static uint Codes(uint word, int bits, uint mask) => 0x64006400u | (word & mask) | (((word >> bits) & mask) << 16);

    private static int Zero(ArrayView<uint> zeros, TensorCoreShape s, int row, int group)
    {
        if (s.Symmetric != 0)
        {
            return 1 << (s.Bits - 1);
        }

        // One bit stream of b-bit codes over row-major [rows, groups], packed 32 codes per b words.
        long index = ((long)row * s.GroupsPerRow) + group;
        long bit = ((index >> 5) * s.Bits * 32) + ((index & 31) * s.Bits);
        return (int)((zeros[bit >> 5] >> (int)(bit & 31)) & ((1u << s.Bits) - 1));
    }

    /// <summary>Ends a group for one tile at the lane's columns n = row, row + 1 (weight rows): rows g from
    /// <paramref name="p"/>, rows g + 8 from <paramref name="q"/>, each times its column's scale.</summary>
    private static void Accumulate(ArrayView<ushort> scales, TensorCoreShape s, int row, int group, ulong p, ulong q,
        ref float c0, ref float c1, ref float c2, ref float c3)
    {
        int r0 = Math.Min(row, s.Rows - 1), r1 = Math.Min(row + 1, s.Rows - 1);
        float s0 = Fp16.ToFloat(scales[((long)r0 * s.GroupsPerRow) + group]);
        float s1 = Fp16.ToFloat(scales[((long)r1 * s.GroupsPerRow) + group]);
        c0 += s0 * Interop.IntAsFloat((uint)p);
        c1 += s1 * Interop.IntAsFloat((uint)(p >> 32));
        c2 += s0 * Interop.IntAsFloat((uint)q);
        c3 += s1 * Interop.IntAsFloat((uint)(q >> 32));
    }

    /// <summary>D fragment → y: (m = g, n = row, row+1) from c0, c1; (m = g + 8, …) from c2, c3.</summary>
    private static void Store(ArrayView<float> y, TensorCoreShape s, int row, int g, float c0, float c1, float c2, float c3)
    {
        if (g < s.M)
        {
            if (row < s.Rows)
            {
                y[((long)g * s.Rows) + row] = c0;
            }

            if (row + 1 < s.Rows)
            {
                y[((long)g * s.Rows) + row + 1] = c1;
            }
        }

        if (g + 8 < s.M)
        {
            if (row < s.Rows)
            {
                y[((long)(g + 8) * s.Rows) + row] = c2;
            }

            if (row + 1 < s.Rows)
            {
                y[((long)(g + 8) * s.Rows) + row + 1] = c3;
            }
        }
    }

    /// <summary>
    /// One m16n8k16 mma keeping D's rows g only (this lane's two f32 outputs at columns 2t, 2t+1, packed low-first):
    /// A rows g from <c>aLow</c> (columns 2t, 2t+1) and <c>aHigh</c> (2t+8, 2t+9); B column g from <c>b0</c> (rows 2t,
    /// 2t+1) and <c>b1</c> (2t+8, 2t+9), each half 1024 + code, from which <c>offset</c> (1024 + zero) is subtracted
    /// first. Rows g + 8 are a second call with A's other registers: one output per asm statement keeps ILGPU from
    /// routing every operand through local memory, as its by-reference form does.
    /// </summary>
    internal interface IMma
    {
        ulong Run(ulong c, uint aLow, uint aHigh, uint b0, uint b1, uint offset);

        /// <summary>As <see cref="Run"/> with B already in f16 (no offset).</summary>
        ulong Multiply(ulong c, uint aLow, uint aHigh, uint b0, uint b1);

        /// <summary>Two k-blocks in one statement: <see cref="Multiply"/> with the first fragments, then the second
        /// (one output round trip per two mmas).</summary>
        ulong Multiply2(ulong c, uint aLow0, uint aHigh0, uint b00, uint b01, uint aLow1, uint aHigh1, uint b10, uint b11);

        /// <summary>(codes − offset) · scale per f16 half: <c>sub.f16x2</c> (exact for 1024 + code − (1024 + zero))
        /// then <c>mul.rn.f16x2</c> (one rounding).</summary>
        uint Dequantize(uint codes, uint offset, uint scale);
    }

    /// <summary>The CUDA form: sub.f16x2 then mma.sync in one inline-PTX statement.</summary>
    internal readonly struct PtxMma : IMma
    {
        public ulong Run(ulong c, uint aLow, uint aHigh, uint b0, uint b1, uint offset)
        {
            CudaAsm.Emit(
                "{ .reg .f32 kd<4>; .reg .b32 kr<2>; .reg .b32 kb<2>; sub.f16x2 kb0, %4, %6; sub.f16x2 kb1, %5, %6; " +
                "mov.b64 {kr0, kr1}, %1; mov.b32 kd0, kr0; mov.b32 kd1, kr1; mov.f32 kd2, 0f00000000; mov.f32 kd3, 0f00000000; " +
                "mma.sync.aligned.m16n8k16.row.col.f32.f16.f16.f32 {kd0, kd1, kd2, kd3}, {%2, %2, %3, %3}, {kb0, kb1}, {kd0, kd1, kd2, kd3}; " +
                "mov.b32 kr0, kd0; mov.b32 kr1, kd1; mov.b64 %0, {kr0, kr1}; }",
                out ulong d,
                c,
                aLow,
                aHigh,
                b0,
                b1,
                offset);
            return d;
        }

        public ulong Multiply(ulong c, uint aLow, uint aHigh, uint b0, uint b1)
        {
            CudaAsm.Emit(
                "{ .reg .f32 kd<4>; .reg .b32 kr<2>; " +
                "mov.b64 {kr0, kr1}, %1; mov.b32 kd0, kr0; mov.b32 kd1, kr1; mov.f32 kd2, 0f00000000; mov.f32 kd3, 0f00000000; " +
                "mma.sync.aligned.m16n8k16.row.col.f32.f16.f16.f32 {kd0, kd1, kd2, kd3}, {%2, %2, %3, %3}, {%4, %5}, {kd0, kd1, kd2, kd3}; " +
                "mov.b32 kr0, kd0; mov.b32 kr1, kd1; mov.b64 %0, {kr0, kr1}; }",
                out ulong d,
                c,
                aLow,
                aHigh,
                b0,
                b1);
            return d;
        }

        public ulong Multiply2(ulong c, uint aLow0, uint aHigh0, uint b00, uint b01, uint aLow1, uint aHigh1, uint b10, uint b11)
        {
            CudaAsm.Emit(
                "{ .reg .f32 kd<4>; .reg .b32 kr<2>; " +
                "mov.b64 {kr0, kr1}, %1; mov.b32 kd0, kr0; mov.b32 kd1, kr1; mov.f32 kd2, 0f00000000; mov.f32 kd3, 0f00000000; " +
                "mma.sync.aligned.m16n8k16.row.col.f32.f16.f16.f32 {kd0, kd1, kd2, kd3}, {%2, %2, %3, %3}, {%4, %5}, {kd0, kd1, kd2, kd3}; " +
                "mma.sync.aligned.m16n8k16.row.col.f32.f16.f16.f32 {kd0, kd1, kd2, kd3}, {%6, %6, %7, %7}, {%8, %9}, {kd0, kd1, kd2, kd3}; " +
                "mov.b32 kr0, kd0; mov.b32 kr1, kd1; mov.b64 %0, {kr0, kr1}; }",
                out ulong d,
                c,
                aLow0,
                aHigh0,
                b00,
                b01,
                aLow1,
                aHigh1,
                b10,
                b11);
            return d;
        }

        public uint Dequantize(uint codes, uint offset, uint scale)
        {
            CudaAsm.Emit("{ .reg .b32 kt; sub.f16x2 kt, %1, %2; mul.rn.f16x2 %0, kt, %3; }", out uint d, codes, offset, scale);
            return d;
        }
    }

    /// <summary>
    /// Everywhere else: the same arithmetic with the fragment layout of PTX's mma.m16n8k16 (.row.col), exchanging
    /// fragments by warp shuffles: lane (g, t) holds A row g at columns 2t, 2t+1 and 2t+8, 2t+9; B column g at rows
    /// 2t, 2t+1 (b0) and 2t+8, 2t+9 (b1); D row g at columns 2t, 2t+1.
    /// </summary>
    internal readonly struct EmulatedMma : IMma
    {
        public ulong Run(ulong c, uint aLow, uint aHigh, uint b0, uint b1, uint offset)
        {
            b0 = SubtractHalves(b0, offset);
            b1 = SubtractHalves(b1, offset);
            int lane = Warp.LaneIdx, g = lane >> 2, t = lane & 3;
            float c0 = Interop.IntAsFloat((uint)c), c1 = Interop.IntAsFloat((uint)(c >> 32));
            for (int q = 0; q < 4; q++)
            {
                int aLane = (4 * g) + q, bLane0 = (8 * t) + q, bLane1 = (8 * t) + 4 + q;
                uint ra0 = Warp.Shuffle(aLow, aLane), ra2 = Warp.Shuffle(aHigh, aLane);
                uint rb00 = Warp.Shuffle(b0, bLane0), rb01 = Warp.Shuffle(b1, bLane0), rb10 = Warp.Shuffle(b0, bLane1), rb11 = Warp.Shuffle(b1, bLane1);

                // k = 2q, 2q+1 from (aLow, b0) and k = 2q+8, 2q+9 from (aHigh, b1).
                c0 += Dot2(ra0, rb00) + Dot2(ra2, rb01);
                c1 += Dot2(ra0, rb10) + Dot2(ra2, rb11);
            }

            return Interop.FloatAsInt(c0) | ((ulong)Interop.FloatAsInt(c1) << 32);
        }

        public ulong Multiply(ulong c, uint aLow, uint aHigh, uint b0, uint b1)
            => Run(c, aLow, aHigh, b0, b1, 0); // subtracting +0 changes no f16 value

        public ulong Multiply2(ulong c, uint aLow0, uint aHigh0, uint b00, uint b01, uint aLow1, uint aHigh1, uint b10, uint b11)
            => Multiply(Multiply(c, aLow0, aHigh0, b00, b01), aLow1, aHigh1, b10, b11);

        public uint Dequantize(uint codes, uint offset, uint scale)
        {
            uint d = SubtractHalves(codes, offset);
            return MultiplyHalves(d, scale);
        }
    }

    /// <summary>mul.rn.f16x2: the f32 product of two f16 values is exact (11 × 11 significant bits), so rounding it
    /// to f16 once is the PTX result.</summary>
    private static uint MultiplyHalves(uint a, uint b)
        => Fp16.FromFloat(Fp16.ToFloat((ushort)a) * Fp16.ToFloat((ushort)b))
            | ((uint)Fp16.FromFloat(Fp16.ToFloat((ushort)(a >> 16)) * Fp16.ToFloat((ushort)(b >> 16))) << 16);

    /// <summary>sub.f16x2 for exact small integers: (1024 + code) − (1024 + zero) per half, as f16 bits.</summary>
    private static uint SubtractHalves(uint a, uint b)
        => Fp16.FromFloat(Fp16.ToFloat((ushort)a) - Fp16.ToFloat((ushort)b))
            | ((uint)Fp16.FromFloat(Fp16.ToFloat((ushort)(a >> 16)) - Fp16.ToFloat((ushort)(b >> 16))) << 16);

    private static float Dot2(uint a, uint b)
        => (Fp16.ToFloat((ushort)a) * Fp16.ToFloat((ushort)b)) + (Fp16.ToFloat((ushort)(a >> 16)) * Fp16.ToFloat((ushort)(b >> 16)));
}
