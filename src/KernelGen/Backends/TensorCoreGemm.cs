using System;
using ILGPU;
using ILGPU.Runtime;
using KernelGen.Quantization;

namespace KernelGen.Backends;

/// <summary>Shape of one <see cref="TensorCoreGemm"/> launch (see <see cref="MmaPackedWeights"/> for the terms).</summary>
/// <param name="Rows">N.</param>
/// <param name="Tiles">Tiles of 8 weight rows (whole blocks of 4).</param>
/// <param name="Slabs">Slabs per tile.</param>
/// <param name="Groups">Groups per row of the padded K.</param>
/// <param name="GroupBlocks">k-blocks per group (per-channel: K / 16).</param>
/// <param name="KBlocks">k-blocks of the padded K (Slabs · 32 / b).</param>
/// <param name="Symmetric">1 when the zero point is fixed at 2^(bits−1).</param>
/// <param name="Bits">Bits per code: 2, 3, 4 or 8.</param>
/// <param name="M">Activation rows.</param>
public readonly record struct TensorCoreGemmShape(int Rows, int Tiles, int Slabs, int Groups, int GroupBlocks, int KBlocks, int Symmetric, int Bits, int M);

/// <summary>
/// y[M, N] = x[M, K] · Wᵀ for M &gt; 16 (prefill) on tensor cores, over the same <see cref="MmaPackedWeights"/> as
/// <see cref="TensorCoreGemv"/>, in one of two forms. On compute capability 9.0 the warpgroup form
/// (<see cref="WarpGroupKernel"/>: <c>wgmma</c>, x through <c>cp.async</c>; docs/perf/gemm.md, session 9). Elsewhere
/// the <c>mma.sync</c> form, described here: each warp computes a 32 × 64 tile of yᵀ: its block of 4 weight tiles (32 rows, two
/// 16-row A operands of <c>mma.sync.m16n8k16</c>) against 64 activation rows (eight 8-row B operands), 16 mmas per
/// 16-wide k-block for 8 decoded A registers. A block is <see cref="Warps"/> warps on consecutive weight blocks and the
/// same 64 activation rows, which it stages in shared memory a k-block at a time (each thread loads one 16-byte quad
/// two k-blocks ahead; one barrier per k-block). The grid runs the activation blocks fastest, so a weight block is
/// read from DRAM once and from L2 by the rest. (docs/perf/gemm.md, session 7: v9.)
/// <para>
/// Numbers: B is x rounded to f16 (staged once per call in fragment order by a small kernel); A is (code − zero) ·
/// scale rounded to f16: one <c>lop3</c> to 1024 + code·2^s, one <c>fma.f16x2</c> to code − zero (exact), one
/// <c>mul.rn.f16x2</c> by the scale (one rounding, relative error ≤ 2^−11 per weight). The accumulation is f32 over all
/// of K, so groups need no flush.
/// </para>
/// <para>
/// ILGPU does not unroll loops, so the word walk is written out per k-block (generic over the code width, which ILGPU
/// folds), as in the GEMV.
/// </para>
/// </summary>
public sealed partial class TensorCoreGemm
{
    /// <summary>Activation rows per warp (eight n8 B operands).</summary>
    public const int RowsM = 64;

    /// <summary>Weight rows per warp (one block of 4 tiles).</summary>
    public const int RowsN = MmaPackedWeights.TileRows * MmaPackedWeights.TileBlock;

    /// <summary>Warps per block, side by side along N on the same activation rows, each thread staging one x quad per
    /// k-block (8 measured 1.4x slower at M = 2048: at ~160 registers per thread an SM then holds one block, 8 warps,
    /// instead of three, 12).</summary>
    public const int Warps = 4;

    private readonly Accelerator accelerator;
    private readonly int multiprocessors;
    private readonly Action<int, ArrayView<float>, ArrayView<uint>, int, int, int, int> prepare;
    private readonly System.Collections.Concurrent.ConcurrentDictionary<(int Bits, int Registers, int GroupEnds), Action<KernelConfig, ArrayView<uint>, ArrayView<uint>, ArrayView<uint>, ArrayView<uint>, ArrayView<float>, TensorCoreGemmShape, int>> kernels = new();
    private readonly bool warpGroups;

    /// <summary>Prepares the kernels for <paramref name="accelerator"/> (whose warps must be 32 lanes wide); each bit
    /// width is compiled on first use. On a compute capability 9.0 CUDA device the products run as warpgroup mmas
    /// (<c>wgmma</c>) unless KERNELGEN_GEMM_WGMMA=0; elsewhere, and then, as <c>mma.sync</c>.</summary>
    public TensorCoreGemm(Accelerator accelerator)
        : this(accelerator, WarpGroupsAvailable(accelerator))
    {
    }

    /// <summary>As the public constructor, choosing the mma form: <paramref name="warpGroups"/> runs the
    /// <c>wgmma</c> form (emulated off CUDA, which is how the tests cover it); <paramref name="multiprocessors"/>, where
    /// given, stands for the accelerator's SM count in the choice of splits (so that tests on a one-core accelerator can
    /// split K as a larger card would).</summary>
    internal TensorCoreGemm(Accelerator accelerator, bool warpGroups, int? multiprocessors = null)
    {
        ArgumentNullException.ThrowIfNull(accelerator);
        if (accelerator.WarpSize != 32)
        {
            throw new NotSupportedException($"{accelerator.Name} has {accelerator.WarpSize}-lane warps; the mma fragments need 32.");
        }

        this.accelerator = accelerator;
        this.warpGroups = warpGroups;
        this.multiprocessors = Math.Max(1, multiprocessors ?? accelerator.NumMultiprocessors);
        prepare = LoadPrepare(accelerator);
    }

    /// <summary>Whether the GEMM on <paramref name="accelerator"/> runs as warpgroup mmas: a CUDA device of compute
    /// capability 9.0 (sm_90a, where <c>wgmma</c> exists), with <see cref="PtxPeephole"/> enabled (it binds the
    /// shared-memory address and the target) and KERNELGEN_GEMM_WGMMA not 0.</summary>
    public static bool WarpGroupsAvailable(Accelerator accelerator)
        => accelerator is ILGPU.Runtime.Cuda.CudaAccelerator cuda
            && cuda.Architecture is { Major: 9, Minor: 0 }
            && PtxPeephole.Enabled
            && Environment.GetEnvironmentVariable("KERNELGEN_GEMM_WGMMA") != "0";

    /// <summary>True when the kernel handles <paramref name="scheme"/> at <paramref name="cols"/> K: when the weights can
    /// be repacked (<see cref="MmaPackedWeights.Supports"/>: groups of whole 16-wide k-blocks; K is always a multiple of
    /// the 32-wide packing chunk): 2-, 3-, 4- or 8-bit codes.</summary>
    public static bool Supports(QuantSchemeInfo scheme, int cols) => MmaPackedWeights.Supports(scheme, cols);

    /// <summary>Words of the fragment buffer <see cref="Run"/> needs: x in f16 for M rounded up to 128 (either form's
    /// activation block) and the weights' padded K.</summary>
    public static long FragmentLength(MmaPackedWeights weights, int m)
    {
        ArgumentNullException.ThrowIfNull(weights);
        return (((long)MTiles(m) * KBlocks(weights)) + RingSlots) * 32 * 4; // x is copied up to RingSlots k-blocks past the last (TensorCoreGemm.SyncBlocks)
    }

    /// <summary>16-row tiles of x staged: M rounded up to 128.</summary>
    private static int MTiles(int m) => (int)(((long)m + GroupRowsM - 1) / GroupRowsM * (GroupRowsM / 16));

    private static int KBlocks(MmaPackedWeights weights) => weights.Slabs * weights.BlocksPerSlab;

    /// <summary>y[M, N] = x[M, K] · Wᵀ, W on the device as <paramref name="weights"/> describes it (its
    /// <see cref="MmaPackedWeights.Packed"/>, <see cref="MmaPackedWeights.Scales"/> and <see cref="MmaPackedWeights.Zeros"/>,
    /// or one word when symmetric). <paramref name="fragments"/> is scratch of <see cref="FragmentLength"/> words.</summary>
    /// <exception cref="ArgumentException">A buffer is too short, or the shape is beyond 32-bit indices; the message
    /// says which.</exception>
    public void Run(MmaPackedWeights weights, ArrayView<uint> packed, ArrayView<uint> scales, ArrayView<uint> zeros, ArrayView<float> x, ArrayView<uint> fragments, ArrayView<float> y, int m)
    {
        ArgumentNullException.ThrowIfNull(weights);
        ArgumentOutOfRangeException.ThrowIfLessThan(m, 1);

        int kBlocks = KBlocks(weights), mTiles = MTiles(m);
        if ((long)mTiles * kBlocks * 64 > int.MaxValue || (long)weights.Tiles * weights.Slabs * 32 > int.MaxValue || weights.Scales.LongLength / 4 > int.MaxValue)
        {
            throw new ArgumentException(FormattableString.Invariant(
                $"M = {m} with a [{weights.Rows} × {weights.Cols}] weight needs more than 32-bit indices in the tensor-core GEMM; split the batch or use the tiled GEMM (UseTensorCores = false)."));
        }

        if (x.Length < (long)m * weights.Cols || y.Length < (long)m * weights.Rows)
        {
            throw new ArgumentException(FormattableString.Invariant(
                $"x holds {x.Length} and y {y.Length} values; M = {m} with a [{weights.Rows} × {weights.Cols}] weight needs {(long)m * weights.Cols} and {(long)m * weights.Rows}."));
        }

        if (fragments.Length < FragmentLength(weights, m))
        {
            throw new ArgumentException(FormattableString.Invariant(
                $"The fragment buffer holds {fragments.Length} words; M = {m}, K = {weights.Cols} needs {FragmentLength(weights, m)}."), nameof(fragments));
        }

        int groupBlocks = weights.GroupSize / 16;
        var shape = new TensorCoreGemmShape(weights.Rows, weights.Tiles, weights.Slabs, weights.Groups, groupBlocks, kBlocks, weights.Symmetric ? 1 : 0, weights.Bits, m);

        // A block: mma.sync, 4 warps on 4 weight blocks (128 rows) × 64 activation rows; wgmma, two warpgroups on 4
        // weight blocks (128 rows) × 128 activation rows.
        int weightBlocks = weights.Tiles / MmaPackedWeights.TileBlock, perBlock = warpGroups ? GroupWeightBlocks : Warps;
        int blocksN = (weightBlocks + perBlock - 1) / perBlock, blocksM = warpGroups ? (m + GroupRowsM - 1) / GroupRowsM : (m + RowsM - 1) / RowsM;

        // Too few output tiles to fill the card (small M or N): split the slabs across blocks, which add into a zeroed y.
        int tiles = blocksN * blocksM;
        int splits = Math.Clamp(Splits > 0 ? Splits : warpGroups ? GroupSplits(tiles, kBlocks, multiprocessors) : (2 * multiprocessors) / tiles, 1, weights.Slabs);
        if (splits > 1)
        {
            y.SubView(0, (long)m * weights.Rows).MemSetToZero();
        }

        // mma.sync: a register cap buys a fourth block per SM at the price of a few spills: worth it once the grid fills
        // the card three blocks per SM, for 4- and 8-bit codes (H100: 10-30 % faster at M = 128 and 2048 on large grids;
        // smaller grids lost up to 13 % on an H200, and 2-bit, whose decode needs the most constants, lost 4-10 %;
        // gemm.md, v11).
        // wgmma: 128 always, so that two blocks of 256 threads share an SM (the 2-bit decode needs more otherwise).
        bool large = (long)blocksN * blocksM >= 3L * multiprocessors;
        int registers = MaxRegisters >= 0 ? MaxRegisters : warpGroups ? 128 : large && weights.Bits >= 4 ? 128 : 0;
        int groupEnds = warpGroups ? GroupEnds(weights.Bits, groupBlocks) : 0;
        var kernel = kernels.GetOrAdd((weights.Bits, registers, groupEnds), static (key, self) => self.Load(key.Bits, key.Registers, key.GroupEnds), this);
        prepare(PrepareThreads(mTiles, kBlocks), x, fragments, weights.Cols, m, kBlocks, warpGroups ? CanonicalLayout : AdjacentPairs(weights.Bits) ? 1 : 0);
        kernel(new KernelConfig(new Index3D(blocksM, blocksN, splits), new Index3D((warpGroups ? GroupWarps : Warps) * 32, 1, 1)), packed, scales, zeros, fragments, y, shape, splits);
    }

    private Action<KernelConfig, ArrayView<uint>, ArrayView<uint>, ArrayView<uint>, ArrayView<uint>, ArrayView<float>, TensorCoreGemmShape, int> Load(int bits, int registers, int groupEnds)
    {
        bool cuda = accelerator.AcceleratorType == AcceleratorType.Cuda;
        var width = TensorCoreGemv.ConstantType(bits);
        var mma = cuda ? typeof(TensorCoreMma.PtxMma) : typeof(TensorCoreMma.EmulatedMma);
        var method = warpGroups
            ? typeof(TensorCoreGemm).GetMethod(nameof(WarpGroupKernel), System.Reflection.BindingFlags.NonPublic | System.Reflection.BindingFlags.Static)!.MakeGenericMethod(mma, width, TensorCoreGemv.ConstantType(groupEnds))
            : typeof(TensorCoreGemm).GetMethod(nameof(GemmKernel), System.Reflection.BindingFlags.NonPublic | System.Reflection.BindingFlags.Static)!.MakeGenericMethod(mma, width);

        // CUDA: ILGPU's PTX with the local-memory round trips of the asm outputs forwarded (PtxPeephole) and, for
        // wgmma, the shared-memory symbol bound and the target raised to sm_90a; mma.sync loads as ILGPU emits it when
        // that is disabled or this ILGPU does not allow it; elsewhere the emulation.
        if (warpGroups)
        {
            // The wgmma kernel takes x's device address for cp.async (0 in the emulation, which does not use it).
            var patchedGroup = cuda
                ? PtxPeephole.LoadPatched<Action<AcceleratorStream, KernelConfig, ArrayView<uint>, ArrayView<uint>, ArrayView<uint>, ArrayView<uint>, ArrayView<float>, TensorCoreGemmShape, int, ulong>>(accelerator, method, registers, warpGroup: true)
                    ?? throw new NotSupportedException("The wgmma GEMM needs its PTX patched as it loads, which this ILGPU does not allow; set KERNELGEN_GEMM_WGMMA=0 for the mma.sync GEMM.")
                : null;
            if (patchedGroup is not null)
            {
                return (config, packed, scales, zeros, fragments, y, shape, splits) => patchedGroup(accelerator.DefaultStream, config, packed, scales, zeros, fragments, y, shape, splits, TensorCoreGemv.Address(fragments));
            }

            var emulated = accelerator.LoadStreamKernel(method.CreateDelegate<Action<ArrayView<uint>, ArrayView<uint>, ArrayView<uint>, ArrayView<uint>, ArrayView<float>, TensorCoreGemmShape, int, ulong>>());
            return (config, packed, scales, zeros, fragments, y, shape, splits) => emulated(config, packed, scales, zeros, fragments, y, shape, splits, 0UL);
        }

        var patched = cuda && PtxPeephole.Enabled
            ? PtxPeephole.LoadPatched<Action<AcceleratorStream, KernelConfig, ArrayView<uint>, ArrayView<uint>, ArrayView<uint>, ArrayView<uint>, ArrayView<float>, TensorCoreGemmShape, int>>(accelerator, method, registers)
            : null;
        if (patched is not null)
        {
            return (config, packed, scales, zeros, fragments, y, shape, splits) => patched(accelerator.DefaultStream, config, packed, scales, zeros, fragments, y, shape, splits);
        }

        var launcher = accelerator.LoadStreamKernel(method.CreateDelegate<Action<ArrayView<uint>, ArrayView<uint>, ArrayView<uint>, ArrayView<uint>, ArrayView<float>, TensorCoreGemmShape, int>>());
        return (config, packed, scales, zeros, fragments, y, shape, splits) => launcher(config, packed, scales, zeros, fragments, y, shape, splits);
    }

    /// <summary>The <see cref="PrepareKernel"/> layout for warpgroup mmas.</summary>
    internal const int CanonicalLayout = 2;

    /// <summary>k-blocks each block must keep for <see cref="GroupSplits"/> to split K for two blocks per SM rather than
    /// one, where one per SM already splits it.</summary>
    internal const int SecondBlockKBlocks = 96;

    /// <summary>As <see cref="SecondBlockKBlocks"/>, where one block per SM would leave K whole (the first split costs y's
    /// zeroing and atomic adds in place of plain stores).</summary>
    internal const int FirstSplitKBlocks = 256;

    /// <summary>
    /// Slab shares per output tile of the warpgroup form, for <paramref name="tiles"/> output tiles (128 × 128) over
    /// <paramref name="kBlocks"/> k-blocks on <paramref name="multiprocessors"/> SMs: enough for two blocks per SM where
    /// each block still keeps <see cref="SecondBlockKBlocks"/> k-blocks (<see cref="FirstSplitKBlocks"/> where one block
    /// per SM needs no split), else enough for one. Shorter blocks pay their prologue, epilogue and atomic adds for too
    /// little work, which a second block per SM does not win back. Measured on an H200 with q4g128 (gemm.md, session 24;
    /// µs, one block per SM against two): 4096² at M = 128 23.1 against 26.3–27.4 (64 against 32 k-blocks per block), at
    /// M = 512 42.9–43.2 unsplit against 48.2–49.8 (128 k-blocks); 8192² at M = 256 79.4–79.7 unsplit against 73.5–74.0
    /// (256 k-blocks); 4096×14336 at M = 64 44.5 against 38.5–39.1 (112 k-blocks) and at M = 512 163.8 unsplit against
    /// 123.2–123.6 (448 k-blocks). (Two per SM was the rule until then.)
    /// </summary>
    internal static int GroupSplits(int tiles, int kBlocks, int multiprocessors)
    {
        int one = Math.Max(1, multiprocessors / tiles), two = Math.Max(1, 2 * multiprocessors / tiles);
        return kBlocks / two >= (one == 1 ? FirstSplitKBlocks : SecondBlockKBlocks) ? two : one;
    }

    /// <summary>Slab shares per output tile when KERNELGEN_GEMM_SPLITS sets it (at least 1; for comparisons); otherwise 0
    /// and <see cref="Run"/> chooses: <see cref="GroupSplits"/> for the warpgroup form, and for the <c>mma.sync</c> form
    /// enough for two blocks per SM.</summary>
    public static readonly int Splits = int.TryParse(Environment.GetEnvironmentVariable("KERNELGEN_GEMM_SPLITS"), out int sp) && sp > 0 ? sp : 0;

    /// <summary>Registers per thread ptxas may use when KERNELGEN_GEMM_MAXNREG sets it (0: no limit); otherwise −1 and
    /// <see cref="Run"/> caps large grids at 128 (four blocks per SM) and leaves small ones uncapped (~162, three).</summary>
    public static readonly int MaxRegisters = int.TryParse(Environment.GetEnvironmentVariable("KERNELGEN_GEMM_MAXNREG"), out int r) ? r : -1;

    /// <summary>x[M, K] → B operands in f16, one 16-byte quad per (16-row tile, k-block, lane) at
    /// (tile · kBlocks + kb) · 32 + lane, so that each 64-row block's k-block is 128 quads that its 128 threads stage.
    /// <paramref name="layout"/> 0 and 1 (mma.sync): lane (g, t) gets rows 16·tile + g and + 8 at columns
    /// 16·kb + 4t … 4t + 3 (the column order of <see cref="MmaPackedWeights"/>) as (row g: 4t, 4t+1), (row g + 8: 4t,
    /// 4t+1), (row g: 4t+2, 4t+3), (row g + 8: 4t+2, 4t+3), or, for 1, with the middle two swapped, so that each 8-row B
    /// operand is two adjacent words (<see cref="AdjacentPairs"/>). <see cref="CanonicalLayout"/> (wgmma): quad c =
    /// 32 · (tile mod 4) + lane of the block's k-block is row 8·(c / 16) + c mod 8 of the block at the mma's k
    /// positions 0–7 (c / 8 even: columns 16·kb + 4j, 4j + 1 for j = 0…3) or 8–15 (odd: 4j + 2, 4j + 3), the
    /// weights' column order; each 8 × 8 core matrix is 128 contiguous bytes, the two k-halves of 8 rows 128 bytes
    /// apart and successive 8-row groups 256 (the K-major layout without swizzle: LBO 128, SBO 256). Rows ≥ M
    /// and columns ≥ K are 0. Each pair is rounded to nearest by <typeparamref name="TMma"/>'s
    /// <see cref="TensorCoreMma.IMma.Pack"/>: on CUDA one <c>cvt.rn.f16x2.f32</c>, elsewhere the same rounding in
    /// integer code (<see cref="Fp16.FromFloat"/>). Explicitly grouped: threads past <paramref name="threads"/>
    /// (<see cref="PrepareThreads"/>) do nothing.</summary>
    internal static void PrepareKernel<TMma>(ArrayView<float> values, ArrayView<uint> words, int k, int m, int kBlocks, int layout, int threads)
        where TMma : struct, TensorCoreMma.IMma
    {
        default(TMma).LaunchDependents(); // the GEMV behind it may start its prologue now
        int index = Grid.GlobalIndex.X;
        if (index >= threads)
        {
            return;
        }

        // One thread per 4 columns of one row: columns 16·kb + 4j … + 3 are word j of two quads, (4j, 4j + 1) of the first
        // and (4j + 2, 4j + 3) of the second. A warp covers one k-block of 8 consecutive rows (lane = 4 · row + j): it
        // reads 64 contiguous bytes of each row and, in the canonical layout, writes two whole 128-byte core matrices.
        // (Until session 18 a thread assembled one whole quad from 64 bytes of one row, of which it kept half: 39 µs for
        // x of 2048 × 4096 under ncu on an H100; gemm.md, session 18.)
        int j = index & 3, kb = (index >> 5) % kBlocks, row = (((index >> 5) / kBlocks) * 8) + ((index >> 2) & 7);
        var four = Load(values.Cast<TensorCoreGemv.Float4>(), row, (kb * 16) + (4 * j), k, m);
        int first, second, wordFirst, wordSecond;
        if (layout == CanonicalLayout)
        {
            int rr = row & (RowsM - 1), c = (16 * (rr >> 3)) + (rr & 7), tile = ((row / RowsM) * 4) + (c >> 5);
            first = (((tile * kBlocks) + kb) * 32) + (c & 31);
            second = first + 8;
            wordFirst = j;
            wordSecond = j;
        }
        else
        {
            int rr = row & 15, high = rr >> 3;
            first = ((((row >> 4) * kBlocks) + kb) * 32) + ((rr & 7) * 4) + j;
            second = first;
            wordFirst = layout != 0 ? 2 * high : high;
            wordSecond = layout != 0 ? (2 * high) + 1 : 2 + high;
        }

        var mma = default(TMma);
        words[(4 * first) + wordFirst] = mma.Pack(four.A, four.B);
        words[(4 * second) + wordSecond] = mma.Pack(four.C, four.D);
    }

    /// <summary>Loads <see cref="PrepareKernel{TMma}"/> for <paramref name="accelerator"/> (CUDA: with the hardware
    /// conversion, its asm output forwarded to registers by <see cref="PtxPeephole"/> where enabled) as a launcher of
    /// (threads, x, fragments, K, M, k-blocks, layout).</summary>
    internal static Action<int, ArrayView<float>, ArrayView<uint>, int, int, int, int> LoadPrepare(Accelerator accelerator)
    {
        const int GroupSize = 256;
        bool cuda = accelerator.AcceleratorType == AcceleratorType.Cuda;
        var method = typeof(TensorCoreGemm).GetMethod(nameof(PrepareKernel), System.Reflection.BindingFlags.NonPublic | System.Reflection.BindingFlags.Static)!
            .MakeGenericMethod(cuda ? typeof(TensorCoreMma.PtxMma) : typeof(TensorCoreMma.EmulatedMma));
        static KernelConfig Config(int threads) => new((threads + GroupSize - 1) / GroupSize, GroupSize);
        var patched = cuda && PtxPeephole.Enabled
            ? PtxPeephole.LoadPatched<Action<AcceleratorStream, KernelConfig, ArrayView<float>, ArrayView<uint>, int, int, int, int, int>>(accelerator, method)
            : null;
        if (patched is not null)
        {
            return (threads, x, words, k, m, kBlocks, layout) => patched(accelerator.DefaultStream, Config(threads), x, words, k, m, kBlocks, layout, threads);
        }

        var launcher = accelerator.LoadStreamKernel(method.CreateDelegate<Action<ArrayView<float>, ArrayView<uint>, int, int, int, int, int>>());
        return (threads, x, words, k, m, kBlocks, layout) => launcher(Config(threads), x, words, k, m, kBlocks, layout, threads);
    }

    /// <summary>Threads of one <see cref="PrepareKernel"/> launch over <paramref name="tiles"/> 16-row tiles of x.</summary>
    internal static int PrepareThreads(int tiles, int kBlocks) => tiles * 16 * kBlocks * 4;

    /// <summary>Whether the GEMM of <paramref name="bits"/>-bit codes stages x with each 8-row B operand as two adjacent
    /// words (X Y, Z W), which the mma reads as a register pair without moves: 8- and 2-bit 3-4 % faster at M = 2048 on
    /// an H100; 4-bit 10 % slower, its kernel spilling more under the 128-register cap (gemm.md, session 8).</summary>
    internal static bool AdjacentPairs(int bits) => bits != 4;

    /// <summary>A staged quad in the order the k-block's mmas read it (X Z: rows g; Y W: rows g + 8): as loaded, or with
    /// the middle words swapped back when the stage holds <see cref="AdjacentPairs"/> order (a renaming: no
    /// instructions).</summary>
    private static TensorCoreGemv.Quad Operands(TensorCoreGemv.Quad quad, bool pairs)
    {
        if (!pairs)
        {
            return quad;
        }

        TensorCoreGemv.Quad result;
        result.X = quad.X;
        result.Y = quad.Z;
        result.Z = quad.Y;
        result.W = quad.W;
        return result;
    }

    private static TensorCoreGemv.Float4 Load(ArrayView<TensorCoreGemv.Float4> x, int row, int col, int k, int m)
        => row < m && col < k ? x[(((long)row * k) + col) / 4] : default;

    /// <summary>
    /// One warp: weight block <c>Grid.IdxY · Warps + warp</c> (tiles a–d; A operands ab and cd, rows g and g + 8 being
    /// row g of two tiles) against activation rows 64·Grid.IdxX … + 63 (B operands 0–7, 8 rows each), over slab share
    /// Grid.IdxZ. Per k-block: 8 decodes, 16 mmas, and the next k-block's four 16-byte x loads; the next group's scale
    /// and zero words are loaded a group ahead.
    /// </summary>
    internal static void GemmKernel<TMma, TBits>(ArrayView<uint> packed, ArrayView<uint> scales, ArrayView<uint> zeros, ArrayView<uint> fragments, ArrayView<float> y, TensorCoreGemmShape s, int splits)
        where TMma : struct, TensorCoreMma.IMma
        where TBits : struct, TensorCoreGemv.IConstant
    {
        int bits = default(TBits).Value, blocksPerSlab = MmaPackedWeights.BlocksPerSlabOf(bits);
        int lane = Warp.LaneIdx, g = lane >> 2, t = lane & 3;
        int perSplit = (s.Slabs + splits - 1) / splits;
        int slabStart = Math.Min(s.Slabs, Grid.IdxZ * perSplit), slabEnd = Math.Min(s.Slabs, slabStart + perSplit);
        if (slabStart >= slabEnd)
        {
            return; // a split with no slabs (the whole block): its y stays as zeroed
        }

        // Warps past the last weight block compute the last one again (they share the block's barriers) and store nothing.
        int blocks = s.Tiles / MmaPackedWeights.TileBlock, own = (Grid.IdxY * Warps) + Warp.WarpIdx;
        int block = Math.Min(own, blocks - 1);

        var mma = default(TMma);
        mma.Allocate();
        var st = default(GemmState);
        int kb = slabStart * blocksPerSlab;
        st.Init<TMma>(scales, zeros, s, g, block, kb);

        // x: the block's 4 warps share each k-block's 128 quads (four 16-row tiles × 32 lanes; quad
        // (tile · KBlocks + kb) · 32 + lane): thread i loads quad i of k-block kb + 1 while kb is computed, and stores it
        // into the other half of a two-k-block stage in shared memory before the block's one barrier per k-block.
        var stage = SharedMemory.Allocate<uint>(2 * 128 * 4).Cast<TensorCoreGemv.Quad>();
        var xq = fragments.Cast<TensorCoreGemv.Quad>();
        int tid = Group.IdxX;
        st.Thread = tid;
        st.XAt = ((((Grid.IdxX * (RowsM / 16)) + (tid >> 5)) * s.KBlocks) + kb) * 32 + (tid & 31);
        stage[tid] = xq[st.XAt];
        st.Next = xq[st.XAt + 32];
        st.XAt += 64;
        Group.Barrier();

        // Weights: one 16-byte load per tile and slab. (Loading the next slab's while this one is computed took 8 more
        // registers, which left room for two blocks per SM instead of three: 1.3-1.6x slower; gemm.md, v8.)
        var quads = packed.Cast<TensorCoreGemv.Quad>();
        int step = s.Slabs * 32;
        int ia = (((block * MmaPackedWeights.TileBlock) * s.Slabs) + slabStart) * 32 + lane;
        bool third = bits == 3; // 3-bit codes: their third bits, one 8-byte load per tile and slab (same index, own plane)
        var highs = third ? packed.Cast<Duo>().SubView(MmaPackedWeights.HighPlanePairs(s.Tiles, s.Slabs)) : default;
        for (int slab = slabStart; slab < slabEnd; slab++)
        {
            var ca = quads[ia];
            var cb = quads[ia + step];
            var cc = quads[ia + (2 * step)];
            var cd = quads[ia + (3 * step)];
            Duo ha = default, hb = default, hc = default, hd = default;
            if (third)
            {
                TensorCoreGemv.LoadHighs(highs, ia, step, out ha, out hb, out hc, out hd);
            }

            ia += 32;

            st.Word<TMma, TBits>(mma, xq, stage, scales, zeros, ca.X, cb.X, cc.X, cd.X, 0, ha.X, hb.X, hc.X, hd.X);
            st.Word<TMma, TBits>(mma, xq, stage, scales, zeros, ca.Y, cb.Y, cc.Y, cd.Y, 1, ha.X, hb.X, hc.X, hd.X);
            st.Word<TMma, TBits>(mma, xq, stage, scales, zeros, ca.Z, cb.Z, cc.Z, cd.Z, 0, ha.Y, hb.Y, hc.Y, hd.Y);
            st.Word<TMma, TBits>(mma, xq, stage, scales, zeros, ca.W, cb.W, cc.W, cd.W, 1, ha.Y, hb.Y, hc.Y, hd.Y);
        }

        // D of A ab: rows g of tiles a (p) and b (q); of cd: tiles c, d. B operand i: activation rows 8i + 2t, + 1.
        bool add = splits > 1;
        int rowA = (block * RowsN) + g, act = (Grid.IdxX * RowsM) + (2 * t);
        if (own < blocks)
        {
            st.Store(y, s, add, rowA, act);
        }
    }

    /// <summary>A warp's running state, in registers: the 64 f32 accumulators (as pairs), the open group's decode
    /// constants for rows g of tiles a–d, the next group's raw words, and the x and group positions.</summary>
    private struct GemmState
    {
        // Accumulators: A operand ab or cd, B operand 0–7; P rows g of tile a (c), Q of tile b (d).
        public ulong Pab0, Qab0, Pab1, Qab1, Pab2, Qab2, Pab3, Qab3, Pab4, Qab4, Pab5, Qab5, Pab6, Qab6, Pab7, Qab7;
        public ulong Pcd0, Qcd0, Pcd1, Qcd1, Pcd2, Qcd2, Pcd3, Qcd3, Pcd4, Qcd4, Pcd5, Qcd5, Pcd6, Qcd6, Pcd7, Qcd7;

        // The open group's decode constants.
        public GroupDecode Open;

        // The group words' stream (the next group's raw words, where they are, k-blocks left in the open group).
        public GroupWords<TensorCoreGemv.Quad> Words;

        // This thread's x quad: where the next load is, the next k-block's quad (in flight), the stage half being read.
        public int XAt, Thread, Stage;
        public TensorCoreGemv.Quad Next;

        /// <summary>Opens the group of k-block <paramref name="kb"/> and prefetches the one after it.</summary>
        public void Init<TMma>(ArrayView<uint> scales, ArrayView<uint> zeros, TensorCoreGemmShape s, int g, int block, int kb)
            where TMma : struct, TensorCoreMma.IMma
        {
            Words.Start(s, g, block, kb, 1, 0);
            Words.Prefetch(scales, zeros, 1);
            Take<TMma>(s.Bits);
            Words.Prefetch(scales, zeros, 1);
        }

        /// <summary>The prefetched words become the open group's constants.</summary>
        private void Take<TMma>(int bits)
            where TMma : struct, TensorCoreMma.IMma
            => Open.Take<TMma>(Words.NextScale, Words.NextZero, Words.ScaleShift, Words.ZeroShift, Words.Symmetric != 0, bits);

        /// <summary>One word per tile of the slab: its 8/b k-blocks.</summary>
        public void Word<TMma, TBits>(TMma mma, ArrayView<TensorCoreGemv.Quad> xq, ArrayView<TensorCoreGemv.Quad> stage, ArrayView<uint> scales, ArrayView<uint> zeros, uint wa, uint wb, uint wc, uint wd, int parity, uint ha, uint hb, uint hc, uint hd)
            where TMma : struct, TensorCoreMma.IMma
            where TBits : struct, TensorCoreGemv.IConstant
        {
            int blocks = 8 / MmaPackedWeights.WordBitsOf(default(TBits).Value);
            Block<TMma, TBits>(mma, xq, stage, scales, zeros, wa, wb, wc, wd, 0, parity, ha, hb, hc, hd);
            if (blocks > 1)
            {
                Block<TMma, TBits>(mma, xq, stage, scales, zeros, wa, wb, wc, wd, 1, parity, ha, hb, hc, hd);
            }

            if (blocks > 2)
            {
                Block<TMma, TBits>(mma, xq, stage, scales, zeros, wa, wb, wc, wd, 2, parity, ha, hb, hc, hd);
                Block<TMma, TBits>(mma, xq, stage, scales, zeros, wa, wb, wc, wd, 3, parity, ha, hb, hc, hd);
            }
        }

        /// <summary>
        /// k-block <paramref name="j"/> of the current words: load x, decode A ab and cd (<see cref="GroupDecode"/>), 16
        /// mmas, and open the next group when this one ends.
        /// </summary>
        private void Block<TMma, TBits>(TMma mma, ArrayView<TensorCoreGemv.Quad> xq, ArrayView<TensorCoreGemv.Quad> stage, ArrayView<uint> scales, ArrayView<uint> zeros, uint wa, uint wb, uint wc, uint wd, int j, int parity, uint ha, uint hb, uint hc, uint hd)
            where TMma : struct, TensorCoreMma.IMma
            where TBits : struct, TensorCoreGemv.IConstant
        {
            int bits = default(TBits).Value;

            // One base address and constant offsets, which ptxas folds into the loads.
            var own = stage.SubView(Stage + Warp.LaneIdx, 97);
            bool pairs = AdjacentPairs(bits);
            var x0 = Operands(own[0], pairs);
            var x1 = Operands(own[32], pairs);
            var x2 = Operands(own[64], pairs);
            var x3 = Operands(own[96], pairs);

            Open.Decode(mma, bits, j, wa, wb, wc, wd, out uint a0, out uint a1, out uint a2, out uint a3, out uint c0, out uint c1, out uint c2, out uint c3, true, ha, hb, hc, hd, parity);

            // B operand 2i: rows 16i + g of x (quad words X, Z: slots 8 + 4i, + 2); 2i + 1: rows 16i + 8 + g (Y, W). Each
            // x quad's four mmas come together, so it is dead after them.
            mma.Publish(a0, a1, a2, a3, c0, c1, c2, c3, x0, x1, x2, x3);
            mma.MultiplyPublished(ref Pab0, ref Qab0, a0, a1, a2, a3, x0.X, x0.Z, 0, 8, 10);
            mma.MultiplyPublished(ref Pab1, ref Qab1, a0, a1, a2, a3, x0.Y, x0.W, 0, 9, 11);
            mma.MultiplyPublished(ref Pcd0, ref Qcd0, c0, c1, c2, c3, x0.X, x0.Z, 1, 8, 10);
            mma.MultiplyPublished(ref Pcd1, ref Qcd1, c0, c1, c2, c3, x0.Y, x0.W, 1, 9, 11);
            mma.MultiplyPublished(ref Pab2, ref Qab2, a0, a1, a2, a3, x1.X, x1.Z, 0, 12, 14);
            mma.MultiplyPublished(ref Pab3, ref Qab3, a0, a1, a2, a3, x1.Y, x1.W, 0, 13, 15);
            mma.MultiplyPublished(ref Pcd2, ref Qcd2, c0, c1, c2, c3, x1.X, x1.Z, 1, 12, 14);
            mma.MultiplyPublished(ref Pcd3, ref Qcd3, c0, c1, c2, c3, x1.Y, x1.W, 1, 13, 15);
            mma.MultiplyPublished(ref Pab4, ref Qab4, a0, a1, a2, a3, x2.X, x2.Z, 0, 16, 18);
            mma.MultiplyPublished(ref Pab5, ref Qab5, a0, a1, a2, a3, x2.Y, x2.W, 0, 17, 19);
            mma.MultiplyPublished(ref Pcd4, ref Qcd4, c0, c1, c2, c3, x2.X, x2.Z, 1, 16, 18);
            mma.MultiplyPublished(ref Pcd5, ref Qcd5, c0, c1, c2, c3, x2.Y, x2.W, 1, 17, 19);
            mma.MultiplyPublished(ref Pab6, ref Qab6, a0, a1, a2, a3, x3.X, x3.Z, 0, 20, 22);
            mma.MultiplyPublished(ref Pab7, ref Qab7, a0, a1, a2, a3, x3.Y, x3.W, 0, 21, 23);
            mma.MultiplyPublished(ref Pcd6, ref Qcd6, c0, c1, c2, c3, x3.X, x3.Z, 1, 20, 22);
            mma.MultiplyPublished(ref Pcd7, ref Qcd7, c0, c1, c2, c3, x3.Y, x3.W, 1, 21, 23);
            mma.Retire();

            // The next k-block's quad into the other half, the one after it loaded; one barrier (the half just read is
            // written again only after the next barrier).
            Stage ^= 128;
            stage[Stage + Thread] = Next;
            Next = xq[XAt];
            XAt += 32;
            Group.Barrier();

            if (--Words.Left == 0)
            {
                Take<TMma>(bits);
                Words.Prefetch(scales, zeros, 1);
                Words.Left = Words.GroupBlocks;
            }
        }

        /// <summary>D → y: B operand i covers activation rows <paramref name="act"/> + 8i (and + 1); P is weight row
        /// <paramref name="row"/> of tile a (c: + 16), Q of tile b (d: + 16).</summary>
        public readonly void Store(ArrayView<float> y, TensorCoreGemmShape s, bool add, int row, int act)
        {
            if (AllInside(s, row + 24, act + 57))
            {
                long rows = s.Rows, step = 8 * rows;
                var at = y.SubView(((long)act * rows) + row);
                var next = at.SubView(rows);
                Inside(at, next, 0, add, Pab0, Qab0);
                Inside(at, next, step, add, Pab1, Qab1);
                Inside(at, next, 2 * step, add, Pab2, Qab2);
                Inside(at, next, 3 * step, add, Pab3, Qab3);
                Inside(at, next, 4 * step, add, Pab4, Qab4);
                Inside(at, next, 5 * step, add, Pab5, Qab5);
                Inside(at, next, 6 * step, add, Pab6, Qab6);
                Inside(at, next, 7 * step, add, Pab7, Qab7);
                Inside(at, next, 16, add, Pcd0, Qcd0);
                Inside(at, next, step + 16, add, Pcd1, Qcd1);
                Inside(at, next, (2 * step) + 16, add, Pcd2, Qcd2);
                Inside(at, next, (3 * step) + 16, add, Pcd3, Qcd3);
                Inside(at, next, (4 * step) + 16, add, Pcd4, Qcd4);
                Inside(at, next, (5 * step) + 16, add, Pcd5, Qcd5);
                Inside(at, next, (6 * step) + 16, add, Pcd6, Qcd6);
                Inside(at, next, (7 * step) + 16, add, Pcd7, Qcd7);
                return;
            }

            Put(y, s, add, row, act, Pab0, Qab0);
            Put(y, s, add, row, act + 8, Pab1, Qab1);
            Put(y, s, add, row, act + 16, Pab2, Qab2);
            Put(y, s, add, row, act + 24, Pab3, Qab3);
            Put(y, s, add, row, act + 32, Pab4, Qab4);
            Put(y, s, add, row, act + 40, Pab5, Qab5);
            Put(y, s, add, row, act + 48, Pab6, Qab6);
            Put(y, s, add, row, act + 56, Pab7, Qab7);
            Put(y, s, add, row + 16, act, Pcd0, Qcd0);
            Put(y, s, add, row + 16, act + 8, Pcd1, Qcd1);
            Put(y, s, add, row + 16, act + 16, Pcd2, Qcd2);
            Put(y, s, add, row + 16, act + 24, Pcd3, Qcd3);
            Put(y, s, add, row + 16, act + 32, Pcd4, Qcd4);
            Put(y, s, add, row + 16, act + 40, Pcd5, Qcd5);
            Put(y, s, add, row + 16, act + 48, Pcd6, Qcd6);
            Put(y, s, add, row + 16, act + 56, Pcd7, Qcd7);
        }

        /// <summary>
        /// Where every value a thread holds lies inside y (the activation rows up to <paramref name="lastAct"/> and the weight
        /// rows up to <paramref name="lastRow"/>; all threads but those of the last tiles): <see cref="Inside"/>, one
        /// address per pair of activation rows and no test per value. Otherwise <see cref="Put"/> per value. The tests per
        /// value, the 64-bit index product and the store-or-add branch were ~1350 SASS instructions per warp of the
        /// warpgroup form, a fixed cost per block as large as ~35 k-blocks' loop (gemm.md, session 23).
        /// </summary>
        internal static bool AllInside(TensorCoreGemmShape s, int lastRow, int lastAct) => lastAct < s.M && lastRow < s.Rows;

        /// <summary>Activation rows <paramref name="at"/> + 8i and the row after it (<paramref name="next"/>), at
        /// <paramref name="offset"/> = 8i rows of y on: p holds weight row 0 of both, q weight row 8.</summary>
        internal static void Inside(ArrayView<float> at, ArrayView<float> next, long offset, bool add, ulong p, ulong q)
        {
            if (add)
            {
                Atomic.Add(ref at[offset], Interop.IntAsFloat((uint)p));
                Atomic.Add(ref next[offset], Interop.IntAsFloat((uint)(p >> 32)));
                Atomic.Add(ref at[offset + 8], Interop.IntAsFloat((uint)q));
                Atomic.Add(ref next[offset + 8], Interop.IntAsFloat((uint)(q >> 32)));
            }
            else
            {
                at[offset] = Interop.IntAsFloat((uint)p);
                next[offset] = Interop.IntAsFloat((uint)(p >> 32));
                at[offset + 8] = Interop.IntAsFloat((uint)q);
                next[offset + 8] = Interop.IntAsFloat((uint)(q >> 32));
            }
        }

        /// <summary><see cref="Put"/>, with one test for the pair where weight rows <paramref name="row"/> and + 8 are
        /// inside y: both activation rows inside M are stored as <see cref="Inside"/> stores them, and a pair past M is
        /// skipped; per value otherwise.</summary>
        internal static void Cut(ArrayView<float> y, TensorCoreGemmShape s, bool add, int row, int act, ulong p, ulong q)
        {
            if (row + 8 < s.Rows && act + 1 < s.M)
            {
                var at = y.SubView(((long)act * s.Rows) + row);
                Inside(at, at.SubView(s.Rows), 0, add, p, q);
            }
            else if (act < s.M)
            {
                Put(y, s, add, row, act, p, q);
            }
        }

        /// <summary>p: weight row <paramref name="row"/> at activation rows act, act + 1; q: row + 8.</summary>
        internal static void Put(ArrayView<float> y, TensorCoreGemmShape s, bool add, int row, int act, ulong p, ulong q)
        {
            Value(y, s, add, act, row, (uint)p);
            Value(y, s, add, act + 1, row, (uint)(p >> 32));
            Value(y, s, add, act, row + 8, (uint)q);
            Value(y, s, add, act + 1, row + 8, (uint)(q >> 32));
        }

        private static void Value(ArrayView<float> y, TensorCoreGemmShape s, bool add, int act, int row, uint bits)
        {
            if (act < s.M && row < s.Rows)
            {
                long at = ((long)act * s.Rows) + row;
                if (add)
                {
                    Atomic.Add(ref y[at], Interop.IntAsFloat(bits));
                }
                else
                {
                    y[at] = Interop.IntAsFloat(bits);
                }
            }
        }
    }
}
