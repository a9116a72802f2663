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
/// Small batches (2 ≤ M ≤ 16) of 2-, 3- and 4-bit codes (8-bit codes: <see cref="ByteKernel"/>) with x rounded to int8, per row exactly as decode rounds it. The
/// activation rows are the mma's columns here, so the four code positions of a unit can no longer keep columns of their
/// own: each tile word becomes two words of two positions each, one in the low and one in the high half of every byte
/// (4-bit codes: the unit's two words as they are; 3-bit: the third bits merged in as decode merges them; 2-bit: the word
/// and the word shifted down by 2), the high halves are shifted down (<c>(word &gt;&gt; 4) &amp; mask</c>) and every
/// position adds into one accumulator set per pair of tiles and group of 8 rows of x (two mmas per unit, tile pair and 8
/// rows). Where a weight group spans a unit pair (groups of 128 columns or more, or per channel), both units share x's
/// scale too (<see cref="XBlockCols"/>), so their integer sums add before a single flush: the flush is half the work at
/// M = 16 (5–12 % faster there on an H200, perf/gemv.md, session 29). A first launch
/// (<see cref="QuantizeBatchKernel{TMma}"/>) writes each row's words in the order a lane loads them and, per unit pair
/// and pair of rows, x's scales and scale·Σq; the GEMV (<see cref="BatchKernel"/>) loads x at the top of each slab,
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
    /// asymmetric 4-bit codes at M &gt; 8, whose two register sets would otherwise spill under the 128-register cap (a slab
    /// ahead measured 6–14 % slower on an H200 in session 28, and 2–6 % slower with 16 bytes spilled once a unit pair
    /// flushed once in session 29: perf/gemv.md).</summary>
    internal static bool LateGroupsFor(int bits, bool symmetric, int m) => bits != 4 || (LateGroupsOverride ?? (m > 8 && !symmetric));

    /// <summary>Whether <paramref name="m"/> activation rows of <paramref name="scheme"/>'s weights with
    /// <paramref name="cols"/> columns run here: 1 to <see cref="MaxRows"/> rows of what
    /// <see cref="Supports(QuantSchemeInfo, int)"/> takes.</summary>
    public static bool Supports(QuantSchemeInfo scheme, int cols, int m)
        => m is >= 1 and <= MaxRows && Supports(scheme, cols);

    /// <summary>Whether <paramref name="m"/> activation rows of <paramref name="rows"/> × <paramref name="cols"/> weights of
    /// <paramref name="scheme"/> run faster here with x rounded to int8 than with f16 x (what
    /// <see cref="Layers.QuantLinear{TScheme}.QuantizeActivations"/> picks): every batch, 2- and 3-bit decode everywhere, and
    /// 4- and 8-bit decode on grids of more row blocks than SMs, and 4-bit decode also on grids of at most one block per two
    /// SMs. On an H200 (perf/gemv.md, sessions 26–32): on the larger grids int8 batches ran 7–34 % faster than f16 ones
    /// (8-bit M = 16 16–29 %, within 1.01–1.05× of its decode); since the batch kernels take groups of 16 warps on grids of
    /// at most one block per SM (<see cref="WarpsFor"/>, session 32), every batch there is level or faster too (1024×4096
    /// and 4096², M = 2–16: 2-bit level to 19 %, 3-bit 5–14 %, 4-bit 2–19 %, 8-bit 1–24 % faster). 4- and 8-bit decode on
    /// 4096² (128 blocks on 132 SMs) run 2–5 % slower with int8 x and stay on f16; 4-bit decode on 1024×4096 (32
    /// blocks, 16 warps per group) 6–7 % faster, 8-bit there level.</summary>
    public bool Pays(QuantSchemeInfo scheme, int rows, int cols, int m)
    {
        ArgumentNullException.ThrowIfNull(scheme);
        if (!Supports(scheme, cols, m))
        {
            return false;
        }

        if (Always || m > 1 || scheme.Bits is 2 or 3)
        {
            return true;
        }

        int blocks = (rows + (MmaPackedWeights.TileRows * MmaPackedWeights.TileBlock) - 1) / (MmaPackedWeights.TileRows * MmaPackedWeights.TileBlock);
        int sms = accelerator.NumMultiprocessors;
        return blocks > sms || (scheme.Bits == 4 && 2 * blocks <= sms);
    }

    /// <summary>Words of the scratch buffer <see cref="Run(MmaPackedWeights, ArrayView{uint}, ArrayView{uint}, ArrayView{uint}, ArrayView{float}, ArrayView{uint}, ArrayView{float}, int)"/>
    /// needs for <paramref name="m"/> activation rows: <see cref="ScratchLength(MmaPackedWeights)"/> for one; for more,
    /// per unit of 64 columns (and a spare slab's two), 16 rows' quads of four lanes and 8 words of scales.</summary>
    public static long ScratchLength(MmaPackedWeights weights, int m)
    {
        ArgumentNullException.ThrowIfNull(weights);
        return m == 1 ? ScratchLength(weights) : BatchScratchLength(weights);
    }

    private static long BatchScratchLength(MmaPackedWeights weights) => (long)BatchUnits(weights) * ((MaxRows * 16) + 32);

    /// <summary>Units of 64 columns per row of x in a batch's scratch: those of every slab and a spare slab's, rounded up to
    /// whole unit pairs (one warp of <see cref="QuantizeBatchKernel{TMma}"/> rounds a pair; 8-bit slabs are one unit).</summary>
    private static int BatchUnits(MmaPackedWeights weights) => ((weights.SlabCols / UnitCols * (weights.Slabs + 1)) + 1) & ~1;

    /// <summary>y[M, N] = x[M, K] · Wᵀ with each row of x rounded to int8 per 64 columns (see the type's remarks);
    /// <paramref name="scratch"/> holds <see cref="ScratchLength(MmaPackedWeights, int)"/> words.</summary>
    /// <exception cref="ArgumentException">The weights or <paramref name="m"/> are not ones this kernel takes, or a buffer is
    /// too short; the message says which.</exception>
    public void Run(MmaPackedWeights weights, ArrayView<uint> packed, ArrayView<uint> scales, ArrayView<uint> zeros, ArrayView<float> x, ArrayView<uint> scratch, ArrayView<float> y, int m)
    {
        ArgumentNullException.ThrowIfNull(weights);
        if (!RunsBatch(weights, m))
        {
            Run(weights, packed, scales, zeros, x, scratch, y);
            return;
        }

        if (m is < 1 or > MaxRows || !Supports(weights))
        {
            throw new ArgumentException(FormattableString.Invariant(
                $"The int8-activation GEMV takes 1 to {MaxRows} rows of x over 2-, 3-, 4- or 8-bit codes in groups of {UnitCols} columns times a power of two (or per channel); this call has M = {m} and {weights.Bits}-bit codes in groups of {weights.GroupSize}. Run it with f16 activations (QuantizeActivations = false)."), nameof(m));
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
        int placement = weights.Bits switch { 4 => 1, 8 => 2, _ => 0 };
        quantizeBatch.Value(new KernelConfig((threads + QuantizeGroupSize - 1) / QuantizeGroupSize, QuantizeGroupSize), x, scratch, weights.Cols, m, units, threads, placement);
        bool perChannel = weights.GroupSize == weights.Cols;
        int unitShift = perChannel ? 30 : System.Numerics.BitOperations.Log2((uint)(weights.GroupSize / UnitCols));
        var shape = new Int8ActivationBatchShape(weights.Rows, weights.Slabs, weights.Groups, unitShift, m, units, weights.Tiles);
        int blocks = weights.Tiles / MmaPackedWeights.TileBlock, warps = WarpsOf(weights, batch: true);
        if (weights.Bits == 8)
        {
            ByteKernel(weights, warps, m, unitShift)(new KernelConfig(blocks, warps * 32), packed, scales, zeros, scratch, y, shape);
            return;
        }

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
            return (config, x, words, k, m, units, threads, placement) => patched(accelerator.DefaultStream, config, x, words, k, m, units, threads, placement);
        }

        var launcher = accelerator.LoadStreamKernel(method.CreateDelegate<Action<ArrayView<float>, ArrayView<uint>, int, int, int, int, int>>());
        return (config, x, words, k, m, units, threads, placement) => launcher(config, x, words, k, m, units, threads, placement);
    }

    private Action<KernelConfig, ArrayView<uint>, ArrayView<uint>, ArrayView<uint>, ArrayView<uint>, ArrayView<float>, Int8ActivationBatchShape> LoadBatch(int bits, bool symmetric, int warps, bool two, bool shared, bool lateGroups)
        => LoadKernel<Int8ActivationBatchShape>(nameof(BatchKernel), TensorCoreGemv.ConstantType(bits), Flag(symmetric), TensorCoreGemv.ConstantType(warps), Flag(two), Flag(shared), Flag(lateGroups));

    /// <summary>
    /// Rounds each of the <paramref name="m"/> rows of x to int8 per block of 128 columns exactly as
    /// <see cref="QuantizeKernel{TMma}"/> does (16 threads per unit, a warp per unit pair), for the 8 or 16 rows the GEMV reads (rows from
    /// <paramref name="m"/> on are zeros; <paramref name="threads"/> says how many). Layout: quad
    /// <c>(row · units + unit) · 4 + t</c> holds lane t's words of positions 0…3 (placed for 4-bit codes where
    /// <paramref name="placement"/> is 1, and then in the order 0, 2, 1, 3; for 2-bit words, in order, where it is 0; where
    /// it is 2, for 8-bit codes, its words of k-blocks 0…3: <see cref="ByteKernel"/>), so that a lane
    /// loads a unit's four B registers at once; after 16 rows' quads, per unit pair s (units 2s, 2s + 1: one x block) and
    /// pair p of rows two quads: (sx for rows 2p, 2p + 1, then sx·Σ q over both units for rows 2p, 2p + 1), what a unit
    /// pair that shares its weight group reads; and (sx·Σ q of unit 2s for rows 2p, 2p + 1, then of unit 2s + 1), what
    /// units of groups of their own read. For 8-bit codes (placement 2) each Σ q is stored as an integer, unscaled.
    /// </summary>
    internal static void QuantizeBatchKernel<TMma>(ArrayView<float> x, ArrayView<uint> words, int k, int m, int units, int threads, int placement)
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
        var rounded = RoundLane<TMma>(x, (long)row * k, unit * UnitCols, row < m ? k : 0, lane16, placement);
        int pairSum = rounded.Sum + Warp.ShuffleXor(rounded.Sum, 16); // both units of the x block: the other half-warp
        // Positions J (Low) and J + 1 (High). 2-bit words keep position order; nibbles go in the order 0, 2, 1, 3, so that
        // each of the mma's two B operands (positions 0, 2 against the bytes' low halves, 1, 3 against their high halves)
        // is a consecutive pair of the lane's 16-byte load (no register moves before the mmas). Bytes: k-block J, in Low.
        long quad = (((long)rowUnit * 4) + t) * 4;
        int word = placement == 1 ? (2 * rounded.H) + (rounded.J >> 1) : rounded.J + rounded.H;
        words[quad + word] = rounded.H == 0 ? rounded.Low : rounded.High;

        if (lane16 == 0)
        {
            float step = rounded.Max / 127f;
            long meta = ((long)MaxRows * units * 16) + ((((long)(unit >> 1) * 8) + (row >> 1)) * 8) + (row & 1);
            // 8-bit codes (placement 2) take Σ q as integers: ByteKernel subtracts zero·Σ q from its exact sums before
            // scaling, where a zero point of 128 would otherwise cancel in f32.
            bool bytes = placement == 2;
            if ((unit & 1) == 0)
            {
                words[meta] = Interop.FloatAsInt(step);
                words[meta + 2] = bytes ? (uint)pairSum : Interop.FloatAsInt(step * pairSum);
            }

            words[meta + 4 + ((unit & 1) * 2)] = bytes ? (uint)rounded.Sum : Interop.FloatAsInt(step * rounded.Sum);
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

    /// <summary>A unit pair's x for one group of 8 rows: this lane's words of units 0 and 1 (row g of the group), the x
    /// block's scale for rows 2t, 2t + 1 (<see cref="Scales"/> X, Y), and the scale·Σ q that each unit's flush takes for
    /// those rows (<see cref="Zeros"/> X, Y: unit 0; Z, W: unit 1, or both units' where they flush once).</summary>
    private struct BatchX
    {
        public TensorCoreGemv.Quad W0, W1, Scales, Zeros;
    }

    /// <summary>A unit pair's x (<see cref="BatchX"/>) from the words at <paramref name="words"/> and the metadata quads at
    /// <paramref name="meta"/> (<see cref="QuantizeBatchKernel{TMma}"/>): a pair that shares its weight group
    /// (<typeparamref name="TShared"/>) reads the first quad alone, whose Z, W hold both units' sx·Σ q.</summary>
    private static BatchX LoadX<TShared>(ArrayView<TensorCoreGemv.Quad> xQuads, long words, long meta)
        where TShared : struct, TensorCoreGemv.IConstant
    {
        var scales = xQuads[meta];
        return new BatchX
        {
            W0 = xQuads[words],
            W1 = xQuads[words + 4],
            Scales = scales,
            Zeros = default(TShared).Value == 1 ? new TensorCoreGemv.Quad { Z = scales.Z, W = scales.W } : xQuads[meta + 1],
        };
    }

    /// <summary>The scales and zero points of this lane's four rows (row g of tiles a…d) for one group.</summary>
    private struct RowScales
    {
        public float A, B, C, D, ZA, ZB, ZC, ZD;
    }

    /// <summary>
    /// One warp: the block's 4 tiles (32 rows) over its share of the slabs, for 8 or 16 rows of x
    /// (<typeparamref name="TTwo"/>). The weights (and 4-bit codes' group constants) of two slabs are in flight in two register sets
    /// taking turns, as in decode (3-bit codes, and 2-bit codes past 8 rows, keep one slab in flight); x's words and
    /// scales are loaded at the top of their unit pair (from L1 or L2: every block reads them), and so are the group
    /// constants where <typeparamref name="TLate"/> says (<see cref="LateGroupsFor"/>). Per unit, tile pair and group
    /// of 8 rows of x: two mmas (low halves of the bytes, then high halves shifted down) into one accumulator set,
    /// flushed as scale·(sx·U − zero·sx·Σ q) once per unit pair where the pair shares its weight group, else per unit;
    /// the warps' sums meet in shared memory.
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
        mma.UseOperands(mma.AllocateOperands()); // first, by every thread: the emulated mma's exchange
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
        // 3-bit codes: device addresses of this lane's quad of tile a in slab 0 and of its third-bit pair (LoadBatchSlab steps
        // from them).
        bool stepped = default(TBits).Value == 3;
        ulong laneTiles = stepped ? packedAddress + ((ulong)(tiles + lane) * 16) : 0, laneHighs = stepped ? packedAddress + ((ulong)(highs + lane) * 8) : 0;
        int laneScale = (block * s.Groups * 4) + (g >> 1), laneZero = (block * s.Groups * 2) + (g >> 2);
        long xRow0 = (((long)g * s.Units) * 4) + t, xRow1 = ((((long)g + 8) * s.Units) * 4) + t;
        long meta = (long)MaxRows * s.Units * 4;
        int scaleShift = 16 * (g & 1), zeroShift = 8 * (g & 3);

        var current = default(BatchSlab);
        if (slabStart < slabEnd)
        {
            LoadBatchSlab<TMma, TBits, TSymmetric, TShared, TLate>(mma, quads, scaleQuads, zeroQuads, packedAddress, laneTiles, laneHighs, tiles, highs, step, lane, laneScale, laneZero, s, ref current, slabStart, slabEnd);
        }

        mma.WaitForPrimary(); // x's rounding, launched just before (programmatic dependent launch)
        var first = default(BatchSums);
        var second = default(BatchSums);
        var other = default(BatchSlab);
        bool unbranched = default(TBits).Value != 2 || !two;
        if (default(TBits).Value == 3 || (default(TBits).Value == 2 && two))
        {
            // One slab in flight: 3-bit codes (every M) and 2-bit codes past 8 rows, whose slabs take long enough to compute
            // that the other warps on the SM hide the next slab's load. Without the second register set the 3-bit batch at
            // M > 8 no longer spills (144 bytes before), nor the 2-bit one (4 bytes). On an H200 (perf/gemv.md, session 37)
            // 3-bit M = 16 ran 6–11 % faster on the four shapes, M = 2 and 8 1–3.5 % faster on the two large ones and 1–3 %
            // slower on 4096² and 8192²; 2-bit M = 16 3–7.5 % faster (4096² level). 2-bit batches of up to 8 rows measured
            // up to 4 % slower with one slab, 4-bit ones 10–16 %: they keep two.
            for (int slab = slabStart; slab < slabEnd; slab++)
            {
                if (slab != slabStart)
                {
                    LoadBatchSlab<TMma, TBits, TSymmetric, TShared, TLate>(mma, quads, scaleQuads, zeroQuads, packedAddress, laneTiles, laneHighs, tiles, highs, step, lane, laneScale, laneZero, s, ref current, slab, slabEnd);
                }

                BatchSlabCompute<TMma, TBits, TSymmetric, TTwo, TShared, TLate>(mma, current, xQuads, xRow0, xRow1, meta, slab, t, scaleShift, zeroShift, scaleQuads, zeroQuads, laneScale, laneZero, s, ref first, ref second);
            }

            StoreBatch<TWarps>(y, s, tile0, warp, t, g, two, first, second);
            return;
        }

        for (int slab = slabStart; slab < slabEnd; slab += 2)
        {
            // Both loads are issued whether or not their slab exists (predicated, at a valid index): behind a branch they
            // would keep the register set's previous contents alive around the loop, a copy per register and turn. (Only
            // 2-bit codes past 8 rows, which now keep one slab in flight above, took the branch: unbranched is true for every
            // kernel that reaches here. Written without it, ILGPU orders the loop's phis differently and ptxas's 4-bit
            // batch ran 2–3 % slower at M = 16: session 37, call 3.)
            if (unbranched || slab + 1 < slabEnd)
            {
                LoadBatchSlab<TMma, TBits, TSymmetric, TShared, TLate>(mma, quads, scaleQuads, zeroQuads, packedAddress, laneTiles, laneHighs, tiles, highs, step, lane, laneScale, laneZero, s, ref other, slab + 1, slabEnd);
            }

            BatchSlabCompute<TMma, TBits, TSymmetric, TTwo, TShared, TLate>(mma, current, xQuads, xRow0, xRow1, meta, slab, t, scaleShift, zeroShift, scaleQuads, zeroQuads, laneScale, laneZero, s, ref first, ref second);
            if (slab + 1 >= slabEnd)
            {
                break;
            }

            if (unbranched || slab + 2 < slabEnd)
            {
                LoadBatchSlab<TMma, TBits, TSymmetric, TShared, TLate>(mma, quads, scaleQuads, zeroQuads, packedAddress, laneTiles, laneHighs, tiles, highs, step, lane, laneScale, laneZero, s, ref current, slab + 2, slabEnd);
            }

            BatchSlabCompute<TMma, TBits, TSymmetric, TTwo, TShared, TLate>(mma, other, xQuads, xRow0, xRow1, meta, slab + 1, t, scaleShift, zeroShift, scaleQuads, zeroQuads, laneScale, laneZero, s, ref first, ref second);
        }

        StoreBatch<TWarps>(y, s, tile0, warp, t, g, two, first, second);
    }

    /// <summary>The warps' sums of a batch block through shared memory into y: lane (g, t) holds row g of tiles a…d for x
    /// rows 2t, 2t + 1 (<paramref name="first"/>) and 8 + 2t, 9 + 2t (<paramref name="second"/>, where <paramref name="two"/>).</summary>
    private static void StoreBatch<TWarps>(ArrayView<float> y, Int8ActivationBatchShape s, int tile0, int warp, int t, int g, bool two, BatchSums first, BatchSums second)
        where TWarps : struct, TensorCoreGemv.IConstant
    {
        // partial[warp][x row][tile row]
        int warps = default(TWarps).Value;
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

    private static void LoadBatchSlab<TMma, TBits, TSymmetric, TShared, TLate>(TMma mma, ArrayView<TensorCoreGemv.Quad> quads, ArrayView<TensorCoreGemv.Quad> scaleQuads, ArrayView<TensorCoreGemv.Quad> zeroQuads, ulong packedAddress, ulong laneTiles, ulong laneHighs, long tiles, long highs, int step, int lane, int laneScale, int laneZero, Int8ActivationBatchShape s, ref BatchSlab slab, int at, int end)
        where TMma : struct, TensorCoreMma.IMma
        where TBits : struct, TensorCoreGemv.IConstant
        where TSymmetric : struct, TensorCoreGemv.IConstant
        where TShared : struct, TensorCoreGemv.IConstant
        where TLate : struct, TensorCoreGemv.IConstant
    {
        // Past the warp's last slab the weights are not read, and the rest is read at its last slab (never used).
        bool load = at < end;
        at = Math.Min(at, end - 1);
        long first = tiles + ((long)at * 32) + lane;
        if (default(TBits).Value != 3)
        {
            slab.A = mma.LoadStreamingIf(quads, first, packedAddress, load);
            slab.B = mma.LoadStreamingIf(quads, first + step, packedAddress, load);
            slab.C = mma.LoadStreamingIf(quads, first + (2 * step), packedAddress, load);
            slab.D = mma.LoadStreamingIf(quads, first + (3 * step), packedAddress, load);
        }
        else
        {
            // 3-bit codes: each tile's quad and third-bit pair at a fixed distance from the slab's first (one 64-bit address
            // per slab and plane, where an index scaled per load costs ptxas four instructions a load). With two slabs in
            // flight it took the spills at M > 8 from 172 to 144 bytes; on an H200 M = 16 ran 2.5–7.5 % faster, M = 2–8
            // 2–2.5 %. The same form in the other widths' batches and in decode measured 1–8 % slower though shorter
            // (perf/gemv.md, session 36).
            ulong a = laneTiles + ((ulong)at * 512), tileBytes = (ulong)step * 16;
            slab.A = mma.LoadStreamingIfAt(quads, first, a, load);
            slab.B = mma.LoadStreamingIfAt(quads, first + step, a + tileBytes, load);
            slab.C = mma.LoadStreamingIfAt(quads, first + (2 * step), a + (2 * tileBytes), load);
            slab.D = mma.LoadStreamingIfAt(quads, first + (3 * step), a + (3 * tileBytes), load);

            // The third bits' plane, one 8-byte load per lane and tile, as decode loads it.
            var highWords = quads.Cast<ulong>();
            long high = highs + ((long)at * 32) + lane;
            ulong h = laneHighs + ((ulong)at * 256), highBytes = (ulong)step * 8;
            slab.HA = PairOf(mma.LoadStreamingPairAt(highWords, high, h));
            slab.HB = PairOf(mma.LoadStreamingPairAt(highWords, high + step, h + highBytes));
            slab.HC = PairOf(mma.LoadStreamingPairAt(highWords, high + (2 * step), h + (2 * highBytes)));
            slab.HD = PairOf(mma.LoadStreamingPairAt(highWords, high + (3 * step), h + (3 * highBytes)));
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

    /// <summary>This lane's four rows' scales and zero points of one group; <paramref name="symmetricZero"/> is 2^(bits − 1).
    /// Zero points go to float through <see cref="ByteFloat"/> where <paramref name="exact"/> (as <see cref="Flush"/>'s sums
    /// do), else through <c>cvt</c>.</summary>
    private static RowScales Decode<TMma, TSymmetric>(TMma mma, TensorCoreGemv.Quad scale, TensorCoreGemv.Quad zero, int scaleShift, int zeroShift, float symmetricZero, bool exact = false)
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
            r.ZA = ZeroPoint(exact, (zero.X >> zeroShift) & 0xFF);
            r.ZB = ZeroPoint(exact, (zero.Y >> zeroShift) & 0xFF);
            r.ZC = ZeroPoint(exact, (zero.Z >> zeroShift) & 0xFF);
            r.ZD = ZeroPoint(exact, (zero.W >> zeroShift) & 0xFF);
        }

        return r;
    }

    /// <summary>A zero point's byte as a float: <see cref="ByteFloat"/> where <paramref name="exact"/> (a constant), else
    /// converted through int (ILGPU converts uint to float via double).</summary>
    private static float ZeroPoint(bool exact, uint b) => exact ? ByteFloat(b) : (int)b;

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
    /// two words of two positions per byte through <see cref="BatchUnits{TMma, TTwo, TShared}"/>. Tile words: 4-bit codes X, Y
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
        var x0 = LoadX<TShared>(xQuads, xRow0 + (unit * 4), scaleAt);
        var x1 = two ? LoadX<TShared>(xQuads, xRow1 + (unit * 4), scaleAt + 8) : default;

        float symmetricZero = 1 << (bits - 1);
        var rows0 = Decode<TMma, TSymmetric>(mma, c.S0, c.Z0, scaleShift, zeroShift, symmetricZero, default(TShared).Value == 1);
        var rows1 = default(TShared).Value == 1 ? rows0 : Decode<TMma, TSymmetric>(mma, c.S1, c.Z1, scaleShift, zeroShift, symmetricZero);
        if (bits == 4)
        {
            // x's nibble words are stored in the order 0, 2, 1, 3 (QuantizeBatchKernel): back in position order for UnitMmas,
            // which then takes its B operands as the load's consecutive pairs.
            x0.W0 = Interleave(x0.W0);
            x0.W1 = Interleave(x0.W1);
            x1.W0 = Interleave(x1.W0);
            x1.W1 = Interleave(x1.W1);
            var unit0 = new TileWords { A0 = a.X, A1 = a.Y, B0 = b.X, B1 = b.Y, C0 = cc.X, C1 = cc.Y, D0 = d.X, D1 = d.Y };
            var unit1 = new TileWords { A0 = a.Z, A1 = a.W, B0 = b.Z, B1 = b.W, C0 = cc.Z, C1 = cc.W, D0 = d.Z, D1 = d.W };
            BatchUnits<TMma, TTwo, TShared>(mma, 0x0F0F0F0Fu, unit0, unit1, x0, x1, rows0, rows1, ref first, ref second);
            return;
        }

        // Two positions per byte: the low halves are positions 0 (word 0) and 1 (word 1), the high halves 2 and 3, so x's
        // words go in as positions 0, 2, 1, 3 (UnitMmas pairs its X, Z with the low halves).
        x0.W0 = Interleave(x0.W0);
        x0.W1 = Interleave(x0.W1);
        x1.W0 = Interleave(x1.W0);
        x1.W1 = Interleave(x1.W1);
        var words0 = BatchWords<TMma, TBits>(mma, a.X, b.X, cc.X, d.X, thirdsAb, thirdsCd, 0);
        var words1 = BatchWords<TMma, TBits>(mma, a.Y, b.Y, cc.Y, d.Y, thirdsAb, thirdsCd, 1);
        BatchUnits<TMma, TTwo, TShared>(mma, bits == 3 ? 0x07070707u : 0x03030303u, words0, words1, x0, x1, rows0, rows1, ref first, ref second);
    }

    /// <summary>x's words of positions 0…3 in the order 0, 2, 1, 3.</summary>
    private static TensorCoreGemv.Quad Interleave(TensorCoreGemv.Quad w) => new() { X = w.X, Y = w.Z, Z = w.Y, W = w.W };

    /// <summary>A 2- or 3-bit unit's tile words (<paramref name="a"/>…<paramref name="d"/>; the third bits of tiles a, b in
    /// <paramref name="thirdsAb"/>, of c, d in <paramref name="thirdsCd"/>) as two words of two positions per byte each
    /// (<see cref="Halves{TMma, TBits}"/>).</summary>
    private static TileWords BatchWords<TMma, TBits>(TMma mma, uint a, uint b, uint c, uint d, Pair thirdsAb, Pair thirdsCd, int parity)
        where TMma : struct, TensorCoreMma.IMma
        where TBits : struct, TensorCoreGemv.IConstant
    {
        var ha = Halves<TMma, TBits>(mma, a, thirdsAb.Low, parity);
        var hb = Halves<TMma, TBits>(mma, b, thirdsAb.High, parity);
        var hc = Halves<TMma, TBits>(mma, c, thirdsCd.Low, parity);
        var hd = Halves<TMma, TBits>(mma, d, thirdsCd.High, parity);
        return new TileWords { A0 = ha.Low, A1 = ha.High, B0 = hb.Low, B1 = hb.High, C0 = hc.Low, C1 = hc.High, D0 = hd.Low, D1 = hd.High };
    }

    /// <summary>A 2- or 3-bit tile word of one unit as two words of two positions per byte: Low holds positions 0 (bits
    /// 0–2) and 2 (bits 4–6), High positions 1 and 3. 2-bit codes: the word and the word shifted down by 2; 3-bit codes:
    /// the third bits of <paramref name="third"/> merged in as decode merges them (<see cref="MergeThirdBits{TMma}"/>).</summary>
    private static Pair Halves<TMma, TBits>(TMma mma, uint word, uint third, int parity)
        where TMma : struct, TensorCoreMma.IMma
        where TBits : struct, TensorCoreGemv.IConstant
        => default(TBits).Value == 2 ? new Pair { Low = word, High = word >> 2 } : MergeThirdBits(mma, word, third, parity);

    /// <summary>One unit's two words of two positions per byte for each tile of the warp's four (a…d).</summary>
    private struct TileWords
    {
        public uint A0, A1, B0, B1, C0, C1, D0, D1;
    }

    /// <summary>A unit's tile words split by <see cref="Split"/>: each byte's low halves (L) and high halves shifted down (H).</summary>
    private struct SplitWords
    {
        public uint La0, La1, Lb0, Lb1, Lc0, Lc1, Ld0, Ld1, Ha0, Ha1, Hb0, Hb1, Hc0, Hc1, Hd0, Hd1;
    }

    private static SplitWords Split(uint mask, TileWords w) => new()
    {
        La0 = w.A0 & mask, La1 = w.A1 & mask, Lb0 = w.B0 & mask, Lb1 = w.B1 & mask,
        Lc0 = w.C0 & mask, Lc1 = w.C1 & mask, Ld0 = w.D0 & mask, Ld1 = w.D1 & mask,
        Ha0 = (w.A0 >> 4) & mask, Ha1 = (w.A1 >> 4) & mask, Hb0 = (w.B0 >> 4) & mask, Hb1 = (w.B1 >> 4) & mask,
        Hc0 = (w.C0 >> 4) & mask, Hc1 = (w.C1 >> 4) & mask, Hd0 = (w.D0 >> 4) & mask, Hd1 = (w.D1 >> 4) & mask,
    };

    /// <summary>
    /// A unit pair's mmas and flushes for every group of 8 rows of x: each unit's words split (<paramref name="mask"/>)
    /// against x's words of that unit (positions in X, Z with the low halves, Y, W with the high halves). Where a weight
    /// group spans both units (<typeparamref name="TShared"/>), they share their scales and zero points, and x's scale
    /// too (<see cref="XBlockCols"/>), so both units' integer sums add in one accumulator set per group of x rows and
    /// flush once (with <see cref="BatchX.Zeros"/> Z, W: sx·Σ q of both units); otherwise each unit flushes on its own.
    /// </summary>
    private static void BatchUnits<TMma, TTwo, TShared>(TMma mma, uint mask, TileWords unit0, TileWords unit1, BatchX x0, BatchX x1, RowScales rows0, RowScales rows1, ref BatchSums first, ref BatchSums second)
        where TMma : struct, TensorCoreMma.IMma
        where TTwo : struct, TensorCoreGemv.IConstant
        where TShared : struct, TensorCoreGemv.IConstant
    {
        bool two = default(TTwo).Value == 1, shared = default(TShared).Value == 1;
        ulong p = 0, q = 0, u = 0, v = 0, p1 = 0, q1 = 0, u1 = 0, v1 = 0;
        var w = Split(mask, unit0);
        UnitMmas(mma, w, x0.W0, ref p, ref q, ref u, ref v);
        if (!shared)
        {
            Flush(shared, p, q, u, v, x0.Scales.X, x0.Scales.Y, x0.Zeros.X, x0.Zeros.Y, rows0, ref first);
            p = q = u = v = 0;
        }

        if (two)
        {
            UnitMmas(mma, w, x1.W0, ref p1, ref q1, ref u1, ref v1);
            if (!shared)
            {
                Flush(shared, p1, q1, u1, v1, x1.Scales.X, x1.Scales.Y, x1.Zeros.X, x1.Zeros.Y, rows0, ref second);
                p1 = q1 = u1 = v1 = 0;
            }
        }

        w = Split(mask, unit1);
        UnitMmas(mma, w, x0.W1, ref p, ref q, ref u, ref v);
        Flush(shared, p, q, u, v, x0.Scales.X, x0.Scales.Y, x0.Zeros.Z, x0.Zeros.W, rows1, ref first);

        if (two)
        {
            UnitMmas(mma, w, x1.W1, ref p1, ref q1, ref u1, ref v1);
            Flush(shared, p1, q1, u1, v1, x1.Scales.X, x1.Scales.Y, x1.Zeros.Z, x1.Zeros.W, rows1, ref second);
        }
    }

    /// <summary>One unit's four mmas for one group of 8 rows of x (<paramref name="x"/>: this lane's words of positions in
    /// the order the split words meet them): tiles a, b into <paramref name="p"/>, <paramref name="q"/>, tiles c, d into
    /// <paramref name="u"/>, <paramref name="v"/>.</summary>
    private static void UnitMmas<TMma>(TMma mma, SplitWords w, TensorCoreGemv.Quad x, ref ulong p, ref ulong q, ref ulong u, ref ulong v)
        where TMma : struct, TensorCoreMma.IMma
    {
        mma.MultiplyInt8(ref p, ref q, w.La0, w.Lb0, w.La1, w.Lb1, x.X, x.Z);
        mma.MultiplyInt8(ref p, ref q, w.Ha0, w.Hb0, w.Ha1, w.Hb1, x.Y, x.W);
        mma.MultiplyInt8(ref u, ref v, w.Lc0, w.Ld0, w.Lc1, w.Ld1, x.X, x.Z);
        mma.MultiplyInt8(ref u, ref v, w.Hc0, w.Hd0, w.Hc1, w.Hd1, x.Y, x.W);
    }

    /// <summary>sums += scale·(sx·U − zero·sx·Σ q) for the lane's four rows (tiles a: p, b: q, c: u, d: v) and its two x rows.
    /// Where a unit pair flushes once (<paramref name="exact"/>), U goes to float without a conversion instruction
    /// (<see cref="ExactFloat"/>: a pair's sums of one x row stay under 2^18 in magnitude); where each unit flushes, through
    /// <c>cvt</c>, one instruction instead of two. On an H200 at M = 16 (perf/gemv.md, session 34) the bit trick in the
    /// flush and for zero points took q3g128 5 % and q4g128 1–2.5 % off; q2g64 (g64: every unit flushes, issue-bound) was
    /// 3.5–4 % slower with it everywhere and 1–2 % with it for zero points alone, so unshared groups keep <c>cvt</c>.</summary>
    private static void Flush(bool exact, ulong p, ulong q, ulong u, ulong v, uint sxBits0, uint sxBits1, uint zxBits0, uint zxBits1, RowScales r, ref BatchSums sums)
    {
        float sx0 = Interop.IntAsFloat(sxBits0), sx1 = Interop.IntAsFloat(sxBits1), zx0 = Interop.IntAsFloat(zxBits0), zx1 = Interop.IntAsFloat(zxBits1);
        sums.A0 += r.A * ((sx0 * Sum(exact, Low(p))) - (r.ZA * zx0));
        sums.A1 += r.A * ((sx1 * Sum(exact, High(p))) - (r.ZA * zx1));
        sums.B0 += r.B * ((sx0 * Sum(exact, Low(q))) - (r.ZB * zx0));
        sums.B1 += r.B * ((sx1 * Sum(exact, High(q))) - (r.ZB * zx1));
        sums.C0 += r.C * ((sx0 * Sum(exact, Low(u))) - (r.ZC * zx0));
        sums.C1 += r.C * ((sx1 * Sum(exact, High(u))) - (r.ZC * zx1));
        sums.D0 += r.D * ((sx0 * Sum(exact, Low(v))) - (r.ZD * zx0));
        sums.D1 += r.D * ((sx1 * Sum(exact, High(v))) - (r.ZD * zx1));
    }

    /// <summary>An mma sum as a float: <see cref="ExactFloat"/> where <paramref name="exact"/> (a constant), else converted.</summary>
    private static float Sum(bool exact, int v) => exact ? ExactFloat(v) : v;

    /// <summary>The signed sum in the low half of an mma result pair. (Written <c>(int)(uint)v</c>, ILGPU converts it to
    /// float as unsigned: <c>cvt.rn.f32.u32</c>.)</summary>
    private static int Low(ulong v) => (int)v;

    /// <summary>The signed sum in the high half of an mma result pair.</summary>
    private static int High(ulong v) => (int)(v >> 32);
}
