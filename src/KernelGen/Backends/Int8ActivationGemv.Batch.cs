using System;
using ILGPU;
using ILGPU.Runtime;
using ILGPU.Runtime.Cuda;

namespace KernelGen.Backends;

/// <summary>Shape of one batched <see cref="Int8ActivationGemv"/> launch (2 ≤ M ≤ 16).</summary>
/// <param name="Rows">N.</param>
/// <param name="Slabs">Slabs per tile (<see cref="MmaPackedWeights.Slabs"/>).</param>
/// <param name="Groups">Groups per row of the padded K (<see cref="MmaPackedWeights.Groups"/>).</param>
/// <param name="UnitShift">log2 of the units of 64 columns per group (30 for one group per row).</param>
/// <param name="M">Activation rows.</param>
/// <param name="Units">Units of 64 columns per activation row in the scratch buffer (those of every slab, and a spare slab's).</param>
/// <param name="Tiles">Tiles of 8 rows (where 3-bit codes' third bits start: <see cref="MmaPackedWeights.HighPlane"/>).</param>
public readonly record struct Int8ActivationBatchShape(int Rows, int Slabs, int Groups, int UnitShift, int M, int Units, int Tiles);

/// <summary>
/// Small batches (2 ≤ M ≤ 16) of 2-, 3- and 4-bit codes with x rounded to int8, per row exactly as decode rounds it. The
/// activation rows are the mma's columns here, so the four code positions of a unit can no longer keep columns of their
/// own: each tile word becomes two words of two positions each, one in the low and one in the high half of every byte
/// (4-bit codes: the unit's two words as they are; 3-bit: the third bits merged in as decode merges them; 2-bit: the word
/// and the word shifted down by 2), the high halves are shifted down (<c>(word &gt;&gt; 4) &amp; mask</c>) and every
/// position adds into one accumulator set per pair of tiles and group of 8 rows of x (two mmas per unit, tile pair and 8
/// rows). A first launch
/// (<see cref="QuantizeBatchKernel{TMma}"/>) writes each row's words in the order a lane loads them and, per slab and
/// pair of rows, the units' x scales and scale·Σq; the GEMV (<see cref="BatchKernel"/>) loads x at the top of each slab,
/// since two slabs of it would not fit in registers beside the weights of two slabs.
/// </summary>
public sealed partial class Int8ActivationGemv
{
    /// <summary>The most activation rows a batched launch takes (two groups of 8 rows of x: the mma's n).</summary>
    public const int MaxRows = 16;

    private readonly Lazy<Action<KernelConfig, ArrayView<float>, ArrayView<uint>, int, int, int, int, int>> quantizeBatch;
    private readonly System.Collections.Concurrent.ConcurrentDictionary<(int Bits, bool Symmetric, int Warps, bool Two, bool Shared, bool LateGroups), Action<KernelConfig, ArrayView<uint>, ArrayView<uint>, ArrayView<uint>, ArrayView<uint>, ArrayView<float>, Int8ActivationBatchShape>> batchKernels = new();

    /// <summary>KERNELGEN_X8_ALWAYS=1 makes <see cref="Pays"/> say yes wherever the kernel runs, for comparisons.</summary>
    internal static readonly bool Always = Environment.GetEnvironmentVariable("KERNELGEN_X8_ALWAYS") == "1";

    /// <summary>KERNELGEN_X8_LATEGROUPS=1 or 0 sets whether 4-bit batches load their group constants with x
    /// (<see cref="LateGroupsFor"/>), for comparisons; unset, the rule decides.</summary>
    internal static readonly bool? LateGroupsOverride = Environment.GetEnvironmentVariable("KERNELGEN_X8_LATEGROUPS") switch { "1" => true, "0" => false, _ => null };

    /// <summary>Whether a batch's scales and zero points are loaded at the top of their unit pair (with x) rather than a
    /// slab ahead: always for 2- and 3-bit codes, whose slabs hold two unit pairs (and 3-bit codes more weight words); for
    /// asymmetric 4-bit codes at M &gt; 8, whose two register sets would otherwise spill 120 bytes under the 128-register
    /// cap (they measured 6–14 % slower so on an H200: perf/gemv.md, session 28).</summary>
    internal static bool LateGroupsFor(int bits, bool symmetric, int m) => bits != 4 || (LateGroupsOverride ?? (m > 8 && !symmetric));

    /// <summary>Whether <paramref name="m"/> activation rows of <paramref name="scheme"/>'s weights with
    /// <paramref name="cols"/> columns run here: 1 to <see cref="MaxRows"/> rows of what
    /// <see cref="Supports(QuantSchemeInfo, int)"/> takes.</summary>
    public static bool Supports(QuantSchemeInfo scheme, int cols, int m)
        => m is >= 1 and <= MaxRows && Supports(scheme, cols);

    /// <summary>Whether <paramref name="m"/> activation rows of <paramref name="rows"/> × <paramref name="cols"/> weights of
    /// <paramref name="scheme"/> run faster here with x rounded to int8 than with f16 x (what
    /// <see cref="Layers.QuantLinear{TScheme}.QuantizeActivations"/> picks): 2- and 3-bit codes at M = 1 everywhere; batches
    /// (and 4-bit decode) only on grids of more row blocks than SMs, up to 8 rows, and past 8 rows 2-bit and symmetric 4-bit
    /// codes. On an H200: on 4096² (128 blocks, 132 SMs) every int8 batch and 4-bit decode ran 2–14 % slower than with f16
    /// x; on larger grids M = 2–8 ran 12–31 % faster (2-bit 19–31 %, 3-bit 12–22 %, 4-bit 14–30 %), and at M = 16 2-bit 8–12 %
    /// faster, symmetric 4-bit 9–17 % faster, 3-bit 2–4 % slower (its third bits spill under the register cap) and
    /// asymmetric 4-bit from 9 % faster to 4 % slower (perf/gemv.md, sessions 27 and 28).</summary>
    public bool Pays(QuantSchemeInfo scheme, int rows, int cols, int m)
    {
        ArgumentNullException.ThrowIfNull(scheme);
        if (!Supports(scheme, cols, m))
        {
            return false;
        }

        if (Always || (m == 1 && scheme.Bits != 4))
        {
            return true;
        }

        int blocks = (rows + (MmaPackedWeights.TileRows * MmaPackedWeights.TileBlock) - 1) / (MmaPackedWeights.TileRows * MmaPackedWeights.TileBlock);
        return blocks > accelerator.NumMultiprocessors && (m <= 8 || (scheme.Bits == 4 ? scheme.Symmetric : scheme.Bits == 2));
    }

    /// <summary>Words of the scratch buffer <see cref="Run(MmaPackedWeights, ArrayView{uint}, ArrayView{uint}, ArrayView{uint}, ArrayView{float}, ArrayView{uint}, ArrayView{float}, int)"/>
    /// needs for <paramref name="m"/> activation rows: <see cref="ScratchLength(MmaPackedWeights)"/> for one; for more,
    /// per unit of 64 columns (and a spare slab's two), 16 rows' quads of four lanes and 8 words of scales.</summary>
    public static long ScratchLength(MmaPackedWeights weights, int m)
    {
        ArgumentNullException.ThrowIfNull(weights);
        return m == 1 ? ScratchLength(weights) : (long)BatchUnits(weights) * ((MaxRows * 16) + 32);
    }

    private static int BatchUnits(MmaPackedWeights weights) => weights.SlabCols / UnitCols * (weights.Slabs + 1);

    /// <summary>y[M, N] = x[M, K] · Wᵀ with each row of x rounded to int8 per 64 columns (see the type's remarks);
    /// <paramref name="scratch"/> holds <see cref="ScratchLength(MmaPackedWeights, int)"/> words.</summary>
    /// <exception cref="ArgumentException">The weights or <paramref name="m"/> are not ones this kernel takes, or a buffer is
    /// too short; the message says which.</exception>
    public void Run(MmaPackedWeights weights, ArrayView<uint> packed, ArrayView<uint> scales, ArrayView<uint> zeros, ArrayView<float> x, ArrayView<uint> scratch, ArrayView<float> y, int m)
    {
        ArgumentNullException.ThrowIfNull(weights);
        if (m == 1)
        {
            Run(weights, packed, scales, zeros, x, scratch, y);
            return;
        }

        if (m is < 1 or > MaxRows || !Supports(weights))
        {
            throw new ArgumentException(FormattableString.Invariant(
                $"The int8-activation GEMV takes 1 to {MaxRows} rows of x over 2-, 3- or 4-bit codes in groups of {UnitCols} columns times a power of two (or per channel); this call has M = {m} and {weights.Bits}-bit codes in groups of {weights.GroupSize}. Run it with f16 activations (QuantizeActivations = false)."), nameof(m));
        }

        if (x.Length < (long)m * weights.Cols || y.Length < (long)m * weights.Rows)
        {
            throw new ArgumentException(FormattableString.Invariant(
                $"x holds {x.Length} and y {y.Length} values; M = {m} rows of a [{weights.Rows} × {weights.Cols}] weight need {(long)m * weights.Cols} and {(long)m * weights.Rows}."));
        }

        if (scratch.Length < ScratchLength(weights, m))
        {
            throw new ArgumentException(FormattableString.Invariant(
                $"The scratch buffer holds {scratch.Length} words; K = {weights.Cols} at M = {m} needs {ScratchLength(weights, m)} (Int8ActivationGemv.ScratchLength)."), nameof(scratch));
        }

        int units = BatchUnits(weights);
        int threads = (m > 8 ? MaxRows : 8) * units * 16; // the rows of x the GEMV reads: one or two groups of 8
        quantizeBatch.Value(new KernelConfig((threads + QuantizeGroupSize - 1) / QuantizeGroupSize, QuantizeGroupSize), x, scratch, weights.Cols, m, units, threads, weights.Bits == 4 ? 1 : 0);
        bool perChannel = weights.GroupSize == weights.Cols;
        int unitShift = perChannel ? 30 : System.Numerics.BitOperations.Log2((uint)(weights.GroupSize / UnitCols));
        var shape = new Int8ActivationBatchShape(weights.Rows, weights.Slabs, weights.Groups, unitShift, m, units, weights.Tiles);
        int blocks = weights.Tiles / MmaPackedWeights.TileBlock, warps = WarpsOf(weights);
        var kernel = batchKernels.GetOrAdd((weights.Bits, weights.Symmetric, warps, m > 8, unitShift >= 1, LateGroupsFor(weights.Bits, weights.Symmetric, m)), static (key, self) => self.LoadBatch(key.Bits, key.Symmetric, key.Warps, key.Two, key.Shared, key.LateGroups), this);
        kernel(new KernelConfig(blocks, warps * 32), packed, scales, zeros, scratch, y, shape);
    }

    private Action<KernelConfig, ArrayView<float>, ArrayView<uint>, int, int, int, int, int> LoadQuantizeBatch()
    {
        bool cuda = accelerator.AcceleratorType == AcceleratorType.Cuda;
        var method = typeof(Int8ActivationGemv).GetMethod(nameof(QuantizeBatchKernel), System.Reflection.BindingFlags.NonPublic | System.Reflection.BindingFlags.Static)!
            .MakeGenericMethod(cuda ? typeof(TensorCoreMma.PtxMma) : typeof(TensorCoreMma.EmulatedMma));
        var patched = cuda && PtxPeephole.Enabled
            ? PtxPeephole.LoadPatched<Action<AcceleratorStream, KernelConfig, ArrayView<float>, ArrayView<uint>, int, int, int, int, int>>(accelerator, method)
            : null;
        if (patched is not null)
        {
            return (config, x, words, k, m, units, threads, nibbles) => patched(accelerator.DefaultStream, config, x, words, k, m, units, threads, nibbles);
        }

        var launcher = accelerator.LoadStreamKernel(method.CreateDelegate<Action<ArrayView<float>, ArrayView<uint>, int, int, int, int, int>>());
        return (config, x, words, k, m, units, threads, nibbles) => launcher(config, x, words, k, m, units, threads, nibbles);
    }

    private Action<KernelConfig, ArrayView<uint>, ArrayView<uint>, ArrayView<uint>, ArrayView<uint>, ArrayView<float>, Int8ActivationBatchShape> LoadBatch(int bits, bool symmetric, int warps, bool two, bool shared, bool lateGroups)
        => LoadKernel<Int8ActivationBatchShape>(nameof(BatchKernel), TensorCoreGemv.ConstantType(bits), Flag(symmetric), TensorCoreGemv.ConstantType(warps), Flag(two), Flag(shared), Flag(lateGroups));

    /// <summary>
    /// Rounds each of the <paramref name="m"/> rows of x to int8 per unit of 64 columns exactly as
    /// <see cref="QuantizeKernel{TMma}"/> does (16 threads per unit), for the 8 or 16 rows the GEMV reads (rows from
    /// <paramref name="m"/> on are zeros; <paramref name="threads"/> says how many). Layout: quad
    /// <c>(row · units + unit) · 4 + t</c> holds lane t's words of positions 0…3 (placed for 4-bit codes where
    /// <paramref name="nibbles"/> is 1, else for 2-bit words), so that a lane loads a unit's four B registers at once; after
    /// 16 rows' quads, per unit pair s (units 2s, 2s + 1) and pair p of rows two quads: (sx of unit 2s for rows 2p, 2p + 1,
    /// then of unit 2s + 1) and the same of sx·Σ q.
    /// </summary>
    internal static void QuantizeBatchKernel<TMma>(ArrayView<float> x, ArrayView<uint> words, int k, int m, int units, int threads, int nibbles)
        where TMma : struct, TensorCoreMma.IMma
    {
        default(TMma).LaunchDependents();
        int index = Grid.GlobalIndex.X;
        if (index >= threads)
        {
            return;
        }

        int lane16 = index & 15, t = lane16 & 3, rowUnit = index >> 4;
        int row = rowUnit / units, unit = rowUnit - (row * units);
        var rounded = RoundLane<TMma>(x, (long)row * k, unit * UnitCols, row < m ? k : 0, lane16, nibbles);
        long quad = (((long)rowUnit * 4) + t) * 4;
        if (rounded.H == 0)
        {
            words[quad + rounded.J] = rounded.Low;
        }
        else
        {
            words[quad + rounded.J + 1] = rounded.High;
        }

        if (lane16 == 0)
        {
            float step = rounded.Max / 127f;
            long meta = ((long)MaxRows * units * 16) + ((((long)(unit >> 1) * 8) + (row >> 1)) * 8) + ((unit & 1) * 2) + (row & 1);
            words[meta] = Interop.FloatAsInt(step);
            words[meta + 4] = Interop.FloatAsInt(step * rounded.Sum);
        }
    }

    /// <summary>f32 sums of one lane for one group of 8 rows of x: its row g of tiles a…d, x rows 2t and 2t + 1 of the group.</summary>
    private struct BatchSums
    {
        public float A0, A1, B0, B1, C0, C1, D0, D1;
    }

    /// <summary>What a warp keeps of one slab across the loop: the four tiles' quads (a 4-bit slab's two units, two words
    /// each; a 2- or 3-bit slab's four units, one word each), 3-bit codes' third-bit pairs (units 0, 1 and 2, 3), and for
    /// 4-bit codes this lane's rows' scale and zero-point quads of the slab's two units (one of each where both units share
    /// a group; loaded with x where <see cref="LateGroupsFor"/>).</summary>
    private struct BatchSlab
    {
        public TensorCoreGemv.Quad A, B, C, D, S0, S1, Z0, Z1;
        public Pair HA, HB, HC, HD;
    }

    /// <summary>A unit pair's x for one group of 8 rows: this lane's words of units 0 and 1 (row g of the group), and the
    /// units' scales and scale·Σ q for rows 2t, 2t + 1.</summary>
    private struct BatchX
    {
        public TensorCoreGemv.Quad W0, W1, Scales, Zeros;
    }

    /// <summary>The scales and zero points of this lane's four rows (row g of tiles a…d) for one group.</summary>
    private struct RowScales
    {
        public float A, B, C, D, ZA, ZB, ZC, ZD;
    }

    /// <summary>
    /// One warp: the block's 4 tiles (32 rows) over its share of the slabs, for 8 or 16 rows of x (<typeparamref name="TTwo"/>).
    /// The weights (and 4-bit codes' group constants) of two slabs are in flight in two register sets taking turns, as in
    /// decode; x's words and scales are loaded at the top of their unit pair (from L1 or L2: every block reads them), and so
    /// are the group constants where <typeparamref name="TLate"/> says (<see cref="LateGroupsFor"/>). Per unit, tile pair
    /// and group of 8 rows of x: two mmas (low halves of the bytes, then high halves shifted down) into one accumulator
    /// set, flushed as scale·(sx·U − zero·sx·Σ q); the warps' sums meet in shared memory.
    /// </summary>
    internal static void BatchKernel<TMma, TBits, TSymmetric, TWarps, TTwo, TShared, TLate>(ArrayView<uint> packed, ArrayView<uint> scales, ArrayView<uint> zeros, ArrayView<uint> words, ArrayView<float> y, Int8ActivationBatchShape s, ulong packedAddress)
        where TMma : struct, TensorCoreMma.IMma
        where TBits : struct, TensorCoreGemv.IConstant
        where TSymmetric : struct, TensorCoreGemv.IConstant
        where TWarps : struct, TensorCoreGemv.IConstant
        where TTwo : struct, TensorCoreGemv.IConstant
        where TShared : struct, TensorCoreGemv.IConstant
        where TLate : struct, TensorCoreGemv.IConstant
    {
        var mma = default(TMma);
        int lane = Warp.LaneIdx, g = lane >> 2, t = lane & 3, warp = Warp.WarpIdx, block = Grid.IdxX;
        int tile0 = block * MmaPackedWeights.TileBlock;
        int warps = default(TWarps).Value;
        bool two = default(TTwo).Value == 1;
        int perWarp = (s.Slabs + warps - 1) / warps;
        int slabStart = Math.Min(s.Slabs, warp * perWarp), slabEnd = Math.Min(s.Slabs, slabStart + perWarp);
        var quads = packed.Cast<TensorCoreGemv.Quad>();
        var scaleQuads = scales.Cast<TensorCoreGemv.Quad>();
        var zeroQuads = zeros.Cast<TensorCoreGemv.Quad>();
        var xQuads = words.Cast<TensorCoreGemv.Quad>();
        long tiles = (long)tile0 * s.Slabs * 32;
        long highs = MmaPackedWeights.HighPlanePairs(s.Tiles, s.Slabs) + tiles;
        int step = s.Slabs * 32;
        int laneScale = (block * s.Groups * 4) + (g >> 1), laneZero = (block * s.Groups * 2) + (g >> 2);
        long xRow0 = (((long)g * s.Units) * 4) + t, xRow1 = ((((long)g + 8) * s.Units) * 4) + t;
        long meta = (long)MaxRows * s.Units * 4;
        int scaleShift = 16 * (g & 1), zeroShift = 8 * (g & 3);

        var current = default(BatchSlab);
        if (slabStart < slabEnd)
        {
            LoadBatchSlab<TMma, TBits, TSymmetric, TShared, TLate>(mma, quads, scaleQuads, zeroQuads, packedAddress, tiles, highs, step, lane, laneScale, laneZero, s, ref current, slabStart);
        }

        mma.WaitForPrimary(); // x's rounding, launched just before (programmatic dependent launch)
        var first = default(BatchSums);
        var second = default(BatchSums);
        var other = default(BatchSlab);
        for (int slab = slabStart; slab < slabEnd; slab += 2)
        {
            if (slab + 1 < slabEnd)
            {
                LoadBatchSlab<TMma, TBits, TSymmetric, TShared, TLate>(mma, quads, scaleQuads, zeroQuads, packedAddress, tiles, highs, step, lane, laneScale, laneZero, s, ref other, slab + 1);
            }

            BatchSlabCompute<TMma, TBits, TSymmetric, TTwo, TShared, TLate>(mma, current, xQuads, xRow0, xRow1, meta, slab, t, scaleShift, zeroShift, scaleQuads, zeroQuads, laneScale, laneZero, s, ref first, ref second);
            if (slab + 1 >= slabEnd)
            {
                break;
            }

            if (slab + 2 < slabEnd)
            {
                LoadBatchSlab<TMma, TBits, TSymmetric, TShared, TLate>(mma, quads, scaleQuads, zeroQuads, packedAddress, tiles, highs, step, lane, laneScale, laneZero, s, ref current, slab + 2);
            }

            BatchSlabCompute<TMma, TBits, TSymmetric, TTwo, TShared, TLate>(mma, other, xQuads, xRow0, xRow1, meta, slab + 1, t, scaleShift, zeroShift, scaleQuads, zeroQuads, laneScale, laneZero, s, ref first, ref second);
        }

        // Lane (g, t) holds row g of tiles a…d for x rows 2t, 2t + 1 (and 8 + 2t, 9 + 2t): partial[warp][x row][tile row].
        var partial = SharedMemory.Allocate<float>(default(TWarps).Value * MaxRows * 32);
        int rowA = (warp * MaxRows) + (2 * t);
        StoreSums(partial, (rowA * 32) + g, first);
        if (two)
        {
            StoreSums(partial, ((rowA + 8) * 32) + g, second);
        }

        Group.Barrier();
        int outputs = 32 * s.M;
        for (int i = Group.IdxX; i < outputs; i += warps * 32)
        {
            int xRow = i >> 5, r = i & 31;
            float sum = 0f;
            for (int w = 0; w < warps; w++)
            {
                sum += partial[(((w * MaxRows) + xRow) * 32) + r];
            }

            int n = (tile0 * MmaPackedWeights.TileRows) + r;
            if (n < s.Rows)
            {
                y[((long)xRow * s.Rows) + n] = sum;
            }
        }
    }

    /// <summary>Writes a lane's sums of x rows 2t (at <paramref name="at"/>) and 2t + 1 (32 on), tiles 8 apart.</summary>
    private static void StoreSums(ArrayView<float> partial, int at, BatchSums sums)
    {
        partial[at] = sums.A0;
        partial[at + 8] = sums.B0;
        partial[at + 16] = sums.C0;
        partial[at + 24] = sums.D0;
        partial[at + 32] = sums.A1;
        partial[at + 40] = sums.B1;
        partial[at + 48] = sums.C1;
        partial[at + 56] = sums.D1;
    }

    private static void LoadBatchSlab<TMma, TBits, TSymmetric, TShared, TLate>(TMma mma, ArrayView<TensorCoreGemv.Quad> quads, ArrayView<TensorCoreGemv.Quad> scaleQuads, ArrayView<TensorCoreGemv.Quad> zeroQuads, ulong packedAddress, long tiles, long highs, int step, int lane, int laneScale, int laneZero, Int8ActivationBatchShape s, ref BatchSlab slab, int at)
        where TMma : struct, TensorCoreMma.IMma
        where TBits : struct, TensorCoreGemv.IConstant
        where TSymmetric : struct, TensorCoreGemv.IConstant
        where TShared : struct, TensorCoreGemv.IConstant
        where TLate : struct, TensorCoreGemv.IConstant
    {
        long first = tiles + ((long)at * 32) + lane;
        slab.A = mma.LoadStreaming(quads, first, packedAddress);
        slab.B = mma.LoadStreaming(quads, first + step, packedAddress);
        slab.C = mma.LoadStreaming(quads, first + (2 * step), packedAddress);
        slab.D = mma.LoadStreaming(quads, first + (3 * step), packedAddress);
        if (default(TBits).Value == 3)
        {
            // The third bits' plane, one 8-byte load per lane and tile, as decode loads it.
            var highPairs = quads.Cast<Pair>();
            long high = highs + ((long)at * 32) + lane;
            slab.HA = highPairs[high];
            slab.HB = highPairs[high + step];
            slab.HC = highPairs[high + (2 * step)];
            slab.HD = highPairs[high + (3 * step)];
        }

        if (default(TLate).Value == 0)
        {
            LoadGroups<TSymmetric, TShared>(scaleQuads, zeroQuads, laneScale, laneZero, s, ref slab, at);
        }
    }

    private static void LoadGroups<TSymmetric, TShared>(ArrayView<TensorCoreGemv.Quad> scaleQuads, ArrayView<TensorCoreGemv.Quad> zeroQuads, int laneScale, int laneZero, Int8ActivationBatchShape s, ref BatchSlab slab, int at)
        where TSymmetric : struct, TensorCoreGemv.IConstant
        where TShared : struct, TensorCoreGemv.IConstant
    {
        int unit = 2 * at;
        int g0 = Math.Min(unit >> s.UnitShift, s.Groups - 1);
        slab.S0 = scaleQuads[laneScale + (4 * g0)];
        if (default(TSymmetric).Value == 0)
        {
            slab.Z0 = zeroQuads[laneZero + (2 * g0)];
        }

        if (default(TShared).Value == 0)
        {
            int g1 = Math.Min((unit + 1) >> s.UnitShift, s.Groups - 1);
            slab.S1 = scaleQuads[laneScale + (4 * g1)];
            if (default(TSymmetric).Value == 0)
            {
                slab.Z1 = zeroQuads[laneZero + (2 * g1)];
            }
        }
    }

    /// <summary>This lane's four rows' scales and zero points of one group; <paramref name="symmetricZero"/> is 2^(bits − 1).</summary>
    private static RowScales Decode<TMma, TSymmetric>(TMma mma, TensorCoreGemv.Quad scale, TensorCoreGemv.Quad zero, int scaleShift, int zeroShift, float symmetricZero)
        where TMma : struct, TensorCoreMma.IMma
        where TSymmetric : struct, TensorCoreGemv.IConstant
    {
        var r = new RowScales
        {
            A = mma.HalfToFloat(scale.X >> scaleShift),
            B = mma.HalfToFloat(scale.Y >> scaleShift),
            C = mma.HalfToFloat(scale.Z >> scaleShift),
            D = mma.HalfToFloat(scale.W >> scaleShift),
            ZA = symmetricZero,
            ZB = symmetricZero,
            ZC = symmetricZero,
            ZD = symmetricZero,
        };
        if (default(TSymmetric).Value == 0)
        {
            r.ZA = (int)((zero.X >> zeroShift) & 0xFF); // through int: ILGPU converts uint to float via double
            r.ZB = (int)((zero.Y >> zeroShift) & 0xFF);
            r.ZC = (int)((zero.Z >> zeroShift) & 0xFF);
            r.ZD = (int)((zero.W >> zeroShift) & 0xFF);
        }

        return r;
    }

    /// <summary>One slab: a 4-bit slab is one unit pair; a 2- or 3-bit slab two (units 0, 1 from the quads' X, Y and the
    /// third-bit pairs' low words, units 2, 3 from Z, W and the high words).</summary>
    private static void BatchSlabCompute<TMma, TBits, TSymmetric, TTwo, TShared, TLate>(TMma mma, BatchSlab c, ArrayView<TensorCoreGemv.Quad> xQuads, long xRow0, long xRow1, long meta, int slab, int t, int scaleShift, int zeroShift, ArrayView<TensorCoreGemv.Quad> scaleQuads, ArrayView<TensorCoreGemv.Quad> zeroQuads, int laneScale, int laneZero, Int8ActivationBatchShape s, ref BatchSums first, ref BatchSums second)
        where TMma : struct, TensorCoreMma.IMma
        where TBits : struct, TensorCoreGemv.IConstant
        where TSymmetric : struct, TensorCoreGemv.IConstant
        where TTwo : struct, TensorCoreGemv.IConstant
        where TShared : struct, TensorCoreGemv.IConstant
        where TLate : struct, TensorCoreGemv.IConstant
    {
        if (default(TBits).Value == 4)
        {
            BatchPair<TMma, TBits, TSymmetric, TTwo, TShared, TLate>(mma, c, c.A, c.B, c.C, c.D, default, default, xQuads, xRow0, xRow1, meta, slab, t, scaleShift, zeroShift, scaleQuads, zeroQuads, laneScale, laneZero, s, ref first, ref second);
            return;
        }

        var lowAb = new Pair { Low = c.HA.Low, High = c.HB.Low };
        var lowCd = new Pair { Low = c.HC.Low, High = c.HD.Low };
        BatchPair<TMma, TBits, TSymmetric, TTwo, TShared, TLate>(mma, c, c.A, c.B, c.C, c.D, lowAb, lowCd, xQuads, xRow0, xRow1, meta, 2 * slab, t, scaleShift, zeroShift, scaleQuads, zeroQuads, laneScale, laneZero, s, ref first, ref second);
        var highAb = new Pair { Low = c.HA.High, High = c.HB.High };
        var highCd = new Pair { Low = c.HC.High, High = c.HD.High };
        BatchPair<TMma, TBits, TSymmetric, TTwo, TShared, TLate>(mma, c, Upper(c.A), Upper(c.B), Upper(c.C), Upper(c.D), highAb, highCd, xQuads, xRow0, xRow1, meta, (2 * slab) + 1, t, scaleShift, zeroShift, scaleQuads, zeroQuads, laneScale, laneZero, s, ref first, ref second);
    }

    /// <summary>A quad's Z and W as its X and Y: units 2 and 3 of a 2- or 3-bit slab.</summary>
    private static TensorCoreGemv.Quad Upper(TensorCoreGemv.Quad q) => new() { X = q.Z, Y = q.W };

    /// <summary>
    /// One unit pair (<paramref name="pair"/>: units 2·pair and 2·pair + 1) for every group of 8 rows of x: x's words and
    /// scales (and where <typeparamref name="TLate"/> says, the group constants) loaded here, then per unit each tile's
    /// two words of two positions per byte through <see cref="BatchUnit{TMma, TTwo}"/>. Tile words: 4-bit codes X, Y
    /// (unit 0) and Z, W (unit 1) of <paramref name="a"/>…<paramref name="d"/>; 2- and 3-bit codes X (unit 0) and Y
    /// (unit 1) (<see cref="Halves{TMma, TBits}"/>), with 3-bit codes' third-bit words of tiles a, b in
    /// <paramref name="thirdsAb"/> and of tiles c, d in <paramref name="thirdsCd"/>.
    /// </summary>
    private static void BatchPair<TMma, TBits, TSymmetric, TTwo, TShared, TLate>(TMma mma, BatchSlab c, TensorCoreGemv.Quad a, TensorCoreGemv.Quad b, TensorCoreGemv.Quad cc, TensorCoreGemv.Quad d, Pair thirdsAb, Pair thirdsCd, ArrayView<TensorCoreGemv.Quad> xQuads, long xRow0, long xRow1, long meta, int pair, int t, int scaleShift, int zeroShift, ArrayView<TensorCoreGemv.Quad> scaleQuads, ArrayView<TensorCoreGemv.Quad> zeroQuads, int laneScale, int laneZero, Int8ActivationBatchShape s, ref BatchSums first, ref BatchSums second)
        where TMma : struct, TensorCoreMma.IMma
        where TBits : struct, TensorCoreGemv.IConstant
        where TSymmetric : struct, TensorCoreGemv.IConstant
        where TTwo : struct, TensorCoreGemv.IConstant
        where TShared : struct, TensorCoreGemv.IConstant
        where TLate : struct, TensorCoreGemv.IConstant
    {
        bool two = default(TTwo).Value == 1;
        int bits = default(TBits).Value;
        if (default(TLate).Value == 1)
        {
            LoadGroups<TSymmetric, TShared>(scaleQuads, zeroQuads, laneScale, laneZero, s, ref c, pair);
        }

        long unit = 2L * pair;
        long scaleAt = meta + ((((long)pair * 8) + t) * 2);
        var x0 = new BatchX { W0 = xQuads[xRow0 + (unit * 4)], W1 = xQuads[xRow0 + ((unit + 1) * 4)], Scales = xQuads[scaleAt], Zeros = xQuads[scaleAt + 1] };
        var x1 = default(BatchX);
        if (two)
        {
            x1 = new BatchX { W0 = xQuads[xRow1 + (unit * 4)], W1 = xQuads[xRow1 + ((unit + 1) * 4)], Scales = xQuads[scaleAt + 8], Zeros = xQuads[scaleAt + 9] };
        }

        float symmetricZero = 1 << (bits - 1);
        var rows0 = Decode<TMma, TSymmetric>(mma, c.S0, c.Z0, scaleShift, zeroShift, symmetricZero);
        var rows1 = default(TShared).Value == 1 ? rows0 : Decode<TMma, TSymmetric>(mma, c.S1, c.Z1, scaleShift, zeroShift, symmetricZero);
        if (bits == 4)
        {
            const uint Nibbles = 0x0F0F0F0Fu;
            BatchUnit<TMma, TTwo>(mma, Nibbles, a.X, a.Y, b.X, b.Y, cc.X, cc.Y, d.X, d.Y, x0.W0, x0.Scales.X, x0.Scales.Y, x0.Zeros.X, x0.Zeros.Y, x1.W0, x1.Scales.X, x1.Scales.Y, x1.Zeros.X, x1.Zeros.Y, rows0, ref first, ref second);
            BatchUnit<TMma, TTwo>(mma, Nibbles, a.Z, a.W, b.Z, b.W, cc.Z, cc.W, d.Z, d.W, x0.W1, x0.Scales.Z, x0.Scales.W, x0.Zeros.Z, x0.Zeros.W, x1.W1, x1.Scales.Z, x1.Scales.W, x1.Zeros.Z, x1.Zeros.W, rows1, ref first, ref second);
            return;
        }

        // Two positions per byte: the low halves are positions 0 (word 0) and 1 (word 1), the high halves 2 and 3, so x's
        // words go in as positions 0, 2, 1, 3 (BatchUnit pairs its X, Z with the low halves).
        uint mask = bits == 3 ? 0x07070707u : 0x03030303u;
        var a0 = Halves<TMma, TBits>(mma, a.X, thirdsAb.Low, 0);
        var b0 = Halves<TMma, TBits>(mma, b.X, thirdsAb.High, 0);
        var c0 = Halves<TMma, TBits>(mma, cc.X, thirdsCd.Low, 0);
        var d0 = Halves<TMma, TBits>(mma, d.X, thirdsCd.High, 0);
        BatchUnit<TMma, TTwo>(mma, mask, a0.Low, a0.High, b0.Low, b0.High, c0.Low, c0.High, d0.Low, d0.High, Interleave(x0.W0), x0.Scales.X, x0.Scales.Y, x0.Zeros.X, x0.Zeros.Y, Interleave(x1.W0), x1.Scales.X, x1.Scales.Y, x1.Zeros.X, x1.Zeros.Y, rows0, ref first, ref second);
        var a1 = Halves<TMma, TBits>(mma, a.Y, thirdsAb.Low, 1);
        var b1 = Halves<TMma, TBits>(mma, b.Y, thirdsAb.High, 1);
        var c1 = Halves<TMma, TBits>(mma, cc.Y, thirdsCd.Low, 1);
        var d1 = Halves<TMma, TBits>(mma, d.Y, thirdsCd.High, 1);
        BatchUnit<TMma, TTwo>(mma, mask, a1.Low, a1.High, b1.Low, b1.High, c1.Low, c1.High, d1.Low, d1.High, Interleave(x0.W1), x0.Scales.Z, x0.Scales.W, x0.Zeros.Z, x0.Zeros.W, Interleave(x1.W1), x1.Scales.Z, x1.Scales.W, x1.Zeros.Z, x1.Zeros.W, rows1, ref first, ref second);
    }

    /// <summary>x's words of positions 0…3 in the order 0, 2, 1, 3.</summary>
    private static TensorCoreGemv.Quad Interleave(TensorCoreGemv.Quad w) => new() { X = w.X, Y = w.Z, Z = w.Y, W = w.W };

    /// <summary>A 2- or 3-bit tile word of one unit as two words of two positions per byte: Low holds positions 0 (bits
    /// 0–2) and 2 (bits 4–6), High positions 1 and 3. 2-bit codes: the word and the word shifted down by 2; 3-bit codes:
    /// the third bits of <paramref name="third"/> merged in as decode merges them (<see cref="MergeThirdBits{TMma}"/>).</summary>
    private static Pair Halves<TMma, TBits>(TMma mma, uint word, uint third, int parity)
        where TMma : struct, TensorCoreMma.IMma
        where TBits : struct, TensorCoreGemv.IConstant
        => default(TBits).Value == 2 ? new Pair { Low = word, High = word >> 2 } : MergeThirdBits(mma, word, third, parity);

    /// <summary>One unit of 64 columns: tile a's words <paramref name="a0"/>, <paramref name="a1"/> (…), each byte's low
    /// halves (<paramref name="mask"/>) then its high halves shifted down, against x's words <paramref name="x0"/> X, Z
    /// and Y, W (rows 0–7 of x; <paramref name="x1"/>: rows 8–15), then the flush.</summary>
    private static void BatchUnit<TMma, TTwo>(TMma mma, uint mask, uint a0, uint a1, uint b0, uint b1, uint c0, uint c1, uint d0, uint d1, TensorCoreGemv.Quad x0, uint sx00, uint sx01, uint zx00, uint zx01, TensorCoreGemv.Quad x1, uint sx10, uint sx11, uint zx10, uint zx11, RowScales rows, ref BatchSums first, ref BatchSums second)
        where TMma : struct, TensorCoreMma.IMma
        where TTwo : struct, TensorCoreGemv.IConstant
    {
        uint la0 = a0 & mask, la1 = a1 & mask, lb0 = b0 & mask, lb1 = b1 & mask, lc0 = c0 & mask, lc1 = c1 & mask, ld0 = d0 & mask, ld1 = d1 & mask;
        uint ha0 = (a0 >> 4) & mask, ha1 = (a1 >> 4) & mask, hb0 = (b0 >> 4) & mask, hb1 = (b1 >> 4) & mask;
        uint hc0 = (c0 >> 4) & mask, hc1 = (c1 >> 4) & mask, hd0 = (d0 >> 4) & mask, hd1 = (d1 >> 4) & mask;
        ulong p = 0, q = 0, u = 0, v = 0;
        mma.MultiplyInt8(ref p, ref q, la0, lb0, la1, lb1, x0.X, x0.Z);
        mma.MultiplyInt8(ref p, ref q, ha0, hb0, ha1, hb1, x0.Y, x0.W);
        mma.MultiplyInt8(ref u, ref v, lc0, ld0, lc1, ld1, x0.X, x0.Z);
        mma.MultiplyInt8(ref u, ref v, hc0, hd0, hc1, hd1, x0.Y, x0.W);
        Flush(p, q, u, v, Interop.IntAsFloat(sx00), Interop.IntAsFloat(sx01), Interop.IntAsFloat(zx00), Interop.IntAsFloat(zx01), rows, ref first);
        if (default(TTwo).Value == 1)
        {
            p = 0;
            q = 0;
            u = 0;
            v = 0;
            mma.MultiplyInt8(ref p, ref q, la0, lb0, la1, lb1, x1.X, x1.Z);
            mma.MultiplyInt8(ref p, ref q, ha0, hb0, ha1, hb1, x1.Y, x1.W);
            mma.MultiplyInt8(ref u, ref v, lc0, ld0, lc1, ld1, x1.X, x1.Z);
            mma.MultiplyInt8(ref u, ref v, hc0, hd0, hc1, hd1, x1.Y, x1.W);
            Flush(p, q, u, v, Interop.IntAsFloat(sx10), Interop.IntAsFloat(sx11), Interop.IntAsFloat(zx10), Interop.IntAsFloat(zx11), rows, ref second);
        }
    }

    /// <summary>sums += scale·(sx·U − zero·sx·Σ q) for the lane's four rows (tiles a: p, b: q, c: u, d: v) and its two x rows.</summary>
    private static void Flush(ulong p, ulong q, ulong u, ulong v, float sx0, float sx1, float zx0, float zx1, RowScales r, ref BatchSums sums)
    {
        sums.A0 += r.A * ((sx0 * Low(p)) - (r.ZA * zx0));
        sums.A1 += r.A * ((sx1 * High(p)) - (r.ZA * zx1));
        sums.B0 += r.B * ((sx0 * Low(q)) - (r.ZB * zx0));
        sums.B1 += r.B * ((sx1 * High(q)) - (r.ZB * zx1));
        sums.C0 += r.C * ((sx0 * Low(u)) - (r.ZC * zx0));
        sums.C1 += r.C * ((sx1 * High(u)) - (r.ZC * zx1));
        sums.D0 += r.D * ((sx0 * Low(v)) - (r.ZD * zx0));
        sums.D1 += r.D * ((sx1 * High(v)) - (r.ZD * zx1));
    }

    /// <summary>The signed sum in the low half of an mma result pair. (Written <c>(int)(uint)v</c>, ILGPU converts it to
    /// float as unsigned: <c>cvt.rn.f32.u32</c>.)</summary>
    private static int Low(ulong v) => (int)v;

    /// <summary>The signed sum in the high half of an mma result pair.</summary>
    private static int High(ulong v) => (int)(v >> 32);
}
