using System;
using ILGPU;
using ILGPU.Runtime;
using ILGPU.Runtime.Cuda;

namespace KernelGen.Backends;

/// <summary>Shape of one <see cref="Int8ActivationGemv"/> launch.</summary>
/// <param name="Rows">N.</param>
/// <param name="Slabs">Slabs per tile (<see cref="MmaPackedWeights.Slabs"/>).</param>
/// <param name="Groups">Groups per row of the padded K (<see cref="MmaPackedWeights.Groups"/>).</param>
/// <param name="UnitShift">log2 of the units of 64 columns per group (30 for one group per row).</param>
/// <param name="Tiles">Tiles of 8 rows (where 3-bit codes' third bits start: <see cref="MmaPackedWeights.HighPlane"/>).</param>
public readonly record struct Int8ActivationGemvShape(int Rows, int Slabs, int Groups, int UnitShift, int Tiles);

/// <summary>
/// Decode (M = 1; batches of up to 16 rows: <see cref="BatchKernel"/>; 8-bit codes at every M: <see cref="ByteKernel"/>) over 2-, 3-, 4- and 8-bit weights in <see cref="MmaPackedWeights"/> order with the activations rounded to int8: a
/// first launch (<see cref="QuantizeKernel{TMma}"/>) rounds x to int8 with one scale per 128 columns (|x|max / 127, round
/// to nearest even: <see cref="XBlockCols"/>), and the GEMV multiplies the codes as unsigned bytes on the integer tensor
/// cores (<c>mma.sync.m16n8k32.s32.u8.s8</c>), exactly, applying each 64 columns' weight scale, zero point and x scale in
/// f32. This is the activation rounding llama.cpp's quantized matrix-vector kernels use (q8_1 blocks of 32 columns, q8_K
/// of 256); it trades x's
/// f16 rounding (2^−11) for int8's (up to |x|max/254 per value), so results differ from
/// <see cref="TensorCoreGemv"/>'s by ~10^−3 relative, and the layer runs it only when asked
/// (<see cref="Layers.QuantLinear{TScheme}.QuantizeActivations"/>).
/// <para>
/// <b>Decode.</b> A word of 2-bit codes holds a lane's 16 codes of one row over 64 columns, at bit 2j of each byte
/// for position j = 0…3 (<see cref="MmaPackedWeights"/>): <c>word &amp; (0x03030303 &lt;&lt; 2j)</c> is four codes as
/// bytes of value 4^j·code, one <c>lop3</c> per four weights with no shift. Each position's bytes go to their own
/// column of the mma's D: the B operand holds x only in column j for position j (column 4 + j for the second pair of
/// tiles), so one set of four accumulators carries every position apart, and the flush scales column j by 4^−j. One
/// 64-column unit of a warp's 32 rows is 16 masks, 8 masks of its x word, and four mmas (<see cref="Unit{TMma, TSymmetric}"/>);
/// 3-bit codes first merge each third bit into its code's byte, two positions per byte, and take four mmas as well
/// (<see cref="MergedUnit{TMma, TSymmetric}"/>). A word of 4-bit codes holds 8 codes over
/// 32 columns, as nibbles: <c>word &amp; 0x0F0F0F0F</c> and <c>word &amp; 0xF0F0F0F0</c> are positions of value code and
/// 16·code, so a unit's two words per tile are the same four positions and four mmas, with x's bytes placed for them
/// (<see cref="NibbleUnit{TMma, TSymmetric}"/>).
/// </para>
/// <para>
/// <b>Numbers.</b> Per unit u and row r the mma gives Σ code·q exactly; y_r = Σ_u scale_r·sx_u·(Σ code·q − zero_r·Σ q),
/// summed in f32 (sx_u is the scale of the 128 columns u lies in). The codes, scales and zero points are the layer's;
/// only x is rounded.
/// </para>
/// </summary>
public sealed partial class Int8ActivationGemv
{
    /// <summary>Columns per unit: one word of 2-bit codes (two of 4-bit codes) per lane and tile, and the decode's flush.</summary>
    public const int UnitCols = 64;

    /// <summary>Columns per x scale: two units, so that a batch sums the integer products of both units of a weight group of
    /// 128 columns or more before one flush (M = 16 on an H200 7–15 % faster than with a scale per unit: perf/gemv.md,
    /// session 29). Rows of x are rounded alike at every M.</summary>
    public const int XBlockCols = 2 * UnitCols;

    /// <summary>Columns per block of x's rounded words: four units, one 2-bit slab (two 4-bit slabs).</summary>
    private const int BlockCols = 4 * UnitCols;

    /// <summary>Warps per group, each on a contiguous share of the slabs: 8, or 4 where the row blocks outnumber two per
    /// SM, and 16 for batches where they do not outnumber the SMs (<see cref="WarpsFor"/>); KERNELGEN_X8_WARPS (2, 4, 8 or 16)
    /// sets one for every shape, for comparisons.</summary>
    internal static readonly int Warps = int.TryParse(Environment.GetEnvironmentVariable("KERNELGEN_X8_WARPS"), out int w) && w is 2 or 4 or 8 or 16 ? w : 0;

    /// <summary>The most warps a group has (<see cref="Warps"/> included): the CPU accelerator the tests run on must allow it.</summary>
    public const int MaxWarpsPerGroup = 16;

    /// <summary>Registers per thread ptxas may use: 128, two groups of 8 warps per SM (uncapped the kernel takes 140, one
    /// group per SM, and ran 1.4–1.5× slower on an H200; capped at 96 or 80 it spills and ran slower still: perf/gemv.md,
    /// session 26); KERNELGEN_X8_MAXNREG overrides (0: no cap).</summary>
    public static readonly int MaxRegisters = int.TryParse(Environment.GetEnvironmentVariable("KERNELGEN_X8_MAXNREG"), out int r) ? r : 128;

    /// <summary>KERNELGEN_X8_PAIRED=1 or 0 sets whether decode loads its group constants per unit pair
    /// (<see cref="PairedGroupsFor"/>) wherever that is correct, for comparisons; unset, the rule decides.</summary>
    internal static readonly bool? PairedGroups = Environment.GetEnvironmentVariable("KERNELGEN_X8_PAIRED") switch { "1" => true, "0" => false, _ => null };

    /// <summary>Whether decode loads one scale and zero-point pair per unit pair, not per unit: where groups span two or
    /// more units (or one group holds the row). That takes 8 registers off each register set: on an H200 q3g128 no
    /// longer spills (40–56 bytes before) and took 6.9 / 13.2–13.4 / 31.3–31.6 / 30.1–30.4 µs against 7.2–7.4 / 14.5–14.6 /
    /// 37.5 / 35.3–35.8 on 4096² / 8192² / 28672×8192 / 8192×28672; q4g128 1–2 % faster, q4g128s level (perf/gemv.md,
    /// session 28).</summary>
    internal static bool PairedGroupsFor(int groupSize, int cols)
        => (groupSize == cols || groupSize >= 2 * UnitCols) && PairedGroups != false;

    private const int QuantizeGroupSize = 256;

    private readonly Accelerator accelerator;
    private readonly Lazy<Action<KernelConfig, ArrayView<float>, ArrayView<uint>, int, int, int>> quantize;
    private readonly System.Collections.Concurrent.ConcurrentDictionary<(bool Symmetric, int Warps, bool Third, bool Four, bool Paired), Action<KernelConfig, ArrayView<uint>, ArrayView<uint>, ArrayView<uint>, ArrayView<uint>, ArrayView<float>, Int8ActivationGemvShape>> kernels = new();

    /// <summary>Prepares the two kernels for <paramref name="accelerator"/> (32-lane warps), compiled on first use.</summary>
    /// <exception cref="NotSupportedException">The accelerator's warps are not 32 lanes wide.</exception>
    public Int8ActivationGemv(Accelerator accelerator)
    {
        ArgumentNullException.ThrowIfNull(accelerator);
        if (accelerator.WarpSize != 32)
        {
            throw new NotSupportedException($"{accelerator.Name} has {accelerator.WarpSize}-lane warps; the mma fragments need 32.");
        }

        this.accelerator = accelerator;
        quantize = new(LoadQuantize);
        quantizeBatch = new(LoadQuantizeBatch);
    }

    /// <summary>Whether <paramref name="weights"/> can run here: 2-, 3-, 4- or 8-bit codes in groups of 64 columns times a
    /// power of two, or one group per row.</summary>
    public static bool Supports(MmaPackedWeights weights)
    {
        ArgumentNullException.ThrowIfNull(weights);
        return weights.Bits is 2 or 3 or 4 or 8 && (weights.GroupSize == weights.Cols || GroupFits(weights.GroupSize));
    }

    private static bool GroupFits(int groupSize) => groupSize % UnitCols == 0 && System.Numerics.BitOperations.IsPow2(groupSize / UnitCols);

    /// <summary>Whether weights of <paramref name="scheme"/> with <paramref name="cols"/> columns can run here (as
    /// <see cref="Supports(MmaPackedWeights)"/>, before repacking).</summary>
    public static bool Supports(QuantSchemeInfo scheme, int cols)
    {
        ArgumentNullException.ThrowIfNull(scheme);
        return scheme.Bits is 2 or 3 or 4 or 8 && (scheme.IsPerChannel || GroupFits(scheme.GroupSize)) && MmaPackedWeights.Supports(scheme, cols);
    }

    /// <summary>Words of the scratch buffer one activation row needs for <paramref name="weights"/>: per block of 256 columns
    /// of the padded K and one spare block, 18 quads (<see cref="QuantizeKernel{TMma}"/>); for 8-bit codes, which take the
    /// batch's layout at every M, what a batch needs.</summary>
    public static long ScratchLength(MmaPackedWeights weights)
    {
        ArgumentNullException.ThrowIfNull(weights);
        return weights.Bits == 8 ? BatchScratchLength(weights) : ((long)XBlocks(weights) + 1) * 18 * 4;
    }

    /// <summary>Blocks of <see cref="BlockCols"/> columns in the padded K (slabs of 2- and 3-bit codes; pairs of 4-bit slabs).</summary>
    private static int XBlocks(MmaPackedWeights weights) => (int)(((long)weights.Slabs * weights.SlabCols + BlockCols - 1) / BlockCols);

    /// <summary>y[N] = W · x for one activation row, x rounded to int8 per 128 columns (see the type's remarks);
    /// <paramref name="scratch"/> holds <see cref="ScratchLength(MmaPackedWeights)"/> words.</summary>
    /// <exception cref="ArgumentException">The weights are not ones <see cref="Supports(MmaPackedWeights)"/> takes, or a buffer is too short;
    /// the message says which.</exception>
    public void Run(MmaPackedWeights weights, ArrayView<uint> packed, ArrayView<uint> scales, ArrayView<uint> zeros, ArrayView<float> x, ArrayView<uint> scratch, ArrayView<float> y)
    {
        ArgumentNullException.ThrowIfNull(weights);
        if (weights.Bits == 8 && Supports(weights))
        {
            Run(weights, packed, scales, zeros, x, scratch, y, 1); // 8-bit codes: one kernel for every M
            return;
        }

        if (!Supports(weights))
        {
            throw new ArgumentException(FormattableString.Invariant(
                $"The int8-activation GEMV takes 2-, 3-, 4- or 8-bit codes in groups of {UnitCols} columns times a power of two (or per channel); this weight has {weights.Bits}-bit codes in groups of {weights.GroupSize}. Run it with f16 activations (QuantizeActivations = false)."), nameof(weights));
        }

        if (x.Length < weights.Cols || y.Length < weights.Rows)
        {
            throw new ArgumentException(FormattableString.Invariant(
                $"x holds {x.Length} and y {y.Length} values; a [{weights.Rows} × {weights.Cols}] weight needs {weights.Cols} and {weights.Rows}."));
        }

        if (scratch.Length < ScratchLength(weights))
        {
            throw new ArgumentException(FormattableString.Invariant(
                $"The scratch buffer holds {scratch.Length} words; K = {weights.Cols} needs {ScratchLength(weights)} (Int8ActivationGemv.ScratchLength)."), nameof(scratch));
        }

        int units = (XBlocks(weights) + 1) * 4;
        int threads = 16 * units;
        bool four = weights.Bits == 4;
        quantize.Value(new KernelConfig((threads + QuantizeGroupSize - 1) / QuantizeGroupSize, QuantizeGroupSize), x, scratch, weights.Cols, threads, four ? 1 : 0);
        bool perChannel = weights.GroupSize == weights.Cols;
        var shape = new Int8ActivationGemvShape(weights.Rows, weights.Slabs, weights.Groups, perChannel ? 30 : System.Numerics.BitOperations.Log2((uint)(weights.GroupSize / UnitCols)), weights.Tiles);
        int blocks = weights.Tiles / MmaPackedWeights.TileBlock, warps = WarpsOf(weights, batch: false);
        bool paired = PairedGroupsFor(weights.GroupSize, weights.Cols);
        var kernel = kernels.GetOrAdd((weights.Symmetric, warps, weights.Bits == 3, four, paired), static (key, self) => self.LoadGemv(key.Symmetric, key.Warps, key.Third, key.Four, key.Paired), this);
        kernel(new KernelConfig(blocks, warps * 32), packed, scales, zeros, scratch, y, shape);
    }

    private Action<KernelConfig, ArrayView<float>, ArrayView<uint>, int, int, int> LoadQuantize()
    {
        bool cuda = accelerator.AcceleratorType == AcceleratorType.Cuda;
        var method = typeof(Int8ActivationGemv).GetMethod(nameof(QuantizeKernel), System.Reflection.BindingFlags.NonPublic | System.Reflection.BindingFlags.Static)!
            .MakeGenericMethod(cuda ? typeof(TensorCoreMma.PtxMma) : typeof(TensorCoreMma.EmulatedMma));
        var patched = cuda && PtxPeephole.Enabled
            ? PtxPeephole.LoadPatched<Action<AcceleratorStream, KernelConfig, ArrayView<float>, ArrayView<uint>, int, int, int>>(accelerator, method)
            : null;
        if (patched is not null)
        {
            return (config, x, words, k, threads, nibbles) => patched(accelerator.DefaultStream, config, x, words, k, threads, nibbles);
        }

        var launcher = accelerator.LoadStreamKernel(method.CreateDelegate<Action<ArrayView<float>, ArrayView<uint>, int, int, int>>());
        return (config, x, words, k, threads, nibbles) => launcher(config, x, words, k, threads, nibbles);
    }

    /// <summary>Warps per group for <paramref name="weights"/> on this device (<see cref="WarpsFor"/>, or <see cref="Warps"/>):
    /// for decode's kernel, or (<paramref name="batch"/>) for the batch kernels and 8-bit codes' kernel.</summary>
    internal int WarpsOf(MmaPackedWeights weights, bool batch)
        => Warps > 0 ? Warps : WarpsFor(weights.Tiles / MmaPackedWeights.TileBlock, accelerator.NumMultiprocessors, batch);

    /// <summary>Which kernel runs <paramref name="m"/> rows of <paramref name="weights"/>: decode's
    /// (<see cref="GemvKernel"/>, false), or a batch kernel (<see cref="BatchKernel"/>, or <see cref="ByteKernel"/> at every M).</summary>
    internal static bool RunsBatch(MmaPackedWeights weights, int m) => m > 1 || weights.Bits == 8;

    /// <summary>Warps per group for <paramref name="blocks"/> row blocks on <paramref name="sms"/> SMs, each warp on a
    /// contiguous share of K: 8 where the blocks fit two per SM (16 warps at the 128-register cap), else 4, so that each warp
    /// has twice the share of K and its first loads' latency is paid half as often per byte (on an H200, 28672×8192 at 4
    /// warps 24.4 µs against 25.7 at 8: perf/gemv.md, session 26). Where the blocks leave SMs idle, 16: for the batch
    /// kernels (<paramref name="batch"/>) on grids of at most one block per SM, for decode on grids of at most one block per
    /// two SMs. On an H200 (session 32), batches on 4096² at 16 warps: M = 16 8.6–8.7 µs against 9.9–10.0 at 8 for
    /// q4g128, 9.4–9.5 against 10.4–10.5 for q8pcs, M = 1–8 3–6 % faster; decode on 1024×4096 (32 blocks): q4g128
    /// 6.2–6.3 against 6.8–6.9, 2- and 3-bit level to 3 % faster; decode on 4096² at 16: 4-bit 4 % faster, 2-bit level,
    /// 3-bit 3–4 % slower (and 6.8 against 6.4 for 2-bit in session 26), so 8 there. Groups of 2 where groups of 4 take
    /// more than one wave (session 36: 640–1000 blocks) were mixed for 4- and 8-bit codes (M = 16 2–9 % faster except
    /// asymmetric 4-bit on 20480×5120, 11 % slower; M = 1 on 32000×4096 2–3 % slower) and 4–7 % slower for 2- and 3-bit.</summary>
    internal static int WarpsFor(int blocks, int sms, bool batch)
        => (batch ? blocks <= sms : 2 * blocks <= sms) ? 16 : blocks <= 2 * sms ? 8 : 4;

    private Action<KernelConfig, ArrayView<uint>, ArrayView<uint>, ArrayView<uint>, ArrayView<uint>, ArrayView<float>, Int8ActivationGemvShape> LoadGemv(bool symmetric, int warps, bool third, bool four, bool paired)
        => LoadKernel<Int8ActivationGemvShape>(nameof(GemvKernel), Flag(symmetric), TensorCoreGemv.ConstantType(warps), Flag(third), Flag(four), Flag(paired));

    private static Type Flag(bool value) => value ? typeof(TensorCoreGemv.C1) : typeof(TensorCoreGemv.C0);

    /// <summary>One of the GEMV kernels (parameters: five views, the shape, the weights' address), with the mma form of this
    /// device and <paramref name="constants"/> as its other type arguments: on CUDA compute capability 9.0 launched behind
    /// x's rounding, started while that still runs (it waits for x in griddepcontrol.wait).</summary>
    private Action<KernelConfig, ArrayView<uint>, ArrayView<uint>, ArrayView<uint>, ArrayView<uint>, ArrayView<float>, TShape> LoadKernel<TShape>(string name, params Type[] constants)
        where TShape : unmanaged
    {
        bool cuda = accelerator.AcceleratorType == AcceleratorType.Cuda;
        var method = typeof(Int8ActivationGemv).GetMethod(name, System.Reflection.BindingFlags.NonPublic | System.Reflection.BindingFlags.Static)!
            .MakeGenericMethod([cuda ? typeof(TensorCoreMma.PtxMma) : typeof(TensorCoreMma.EmulatedMma), .. constants]);
        if (cuda && DependentLaunch.Supported(accelerator))
        {
            var dependent = PtxPeephole.LoadPatchedKernel(accelerator, method, MaxRegisters)!;
            return (config, packed, scales, zeros, words, y, shape) => DependentLaunch.Launch(dependent, accelerator.DefaultStream, config, [DependentLaunch.View.Of(packed), DependentLaunch.View.Of(scales), DependentLaunch.View.Of(zeros), DependentLaunch.View.Of(words), DependentLaunch.View.Of(y)], shape, TensorCoreGemv.Address(packed));
        }

        var patched = cuda && PtxPeephole.Enabled
            ? PtxPeephole.LoadPatched<Action<AcceleratorStream, KernelConfig, ArrayView<uint>, ArrayView<uint>, ArrayView<uint>, ArrayView<uint>, ArrayView<float>, TShape, ulong>>(accelerator, method, MaxRegisters)
            : null;
        if (patched is not null)
        {
            return (config, packed, scales, zeros, words, y, shape) => patched(accelerator.DefaultStream, config, packed, scales, zeros, words, y, shape, TensorCoreGemv.Address(packed));
        }

        var launcher = accelerator.LoadStreamKernel(method.CreateDelegate<Action<ArrayView<uint>, ArrayView<uint>, ArrayView<uint>, ArrayView<uint>, ArrayView<float>, TShape, ulong>>());
        return (config, packed, scales, zeros, words, y, shape) => launcher(config, packed, scales, zeros, words, y, shape, cuda ? TensorCoreGemv.Address(packed) : 0UL);
    }

    /// <summary>
    /// Rounds x to int8 per block of 128 columns (<see cref="XBlockCols"/>: a unit pair, one warp): 16 threads per unit,
    /// thread m holding columns 4m … 4m + 3 (k-block m / 4, lane t = m % 4 of the weights' fragments). The block's scale
    /// is |x|max / 127 and q = round(x · 127 / |x|max) (to nearest even; 0 where the block is all zeros or past K). The four q that lane t's codes at position j (0…3)
    /// multiply (<see cref="Int8ActivationGemv"/>) are one word: bytes 0, 2 columns 16·(j / 2) + 4t + 2·(j % 2) and + 1,
    /// bytes 1, 3 the same 32 columns on; for 4-bit codes (<paramref name="nibbles"/> 1: position j is nibble j % 2 of
    /// the unit's word j / 2) bytes 0, 2 columns 32·(j / 2) + 4t + 2·(j % 2) and + 1, bytes 1, 3 the same 16 columns on.
    /// Per block of four units (a 2-bit slab, two 4-bit ones): 18 quads, quad 4j + t holding that word of units 0–3
    /// (so that a lane loads its words of a slab at once), quad 16 the units' scales (those of a unit pair alike) and quad
    /// 17 their Σ q, as integers.
    /// Explicitly grouped; threads past <paramref name="threads"/> (whole warps) do nothing.
    /// </summary>
    internal static void QuantizeKernel<TMma>(ArrayView<float> x, ArrayView<uint> words, int k, int threads, int nibbles)
        where TMma : struct, TensorCoreMma.IMma
    {
        default(TMma).LaunchDependents(); // the GEMV behind it may start loading its weights now
        int index = Grid.GlobalIndex.X;
        if (index >= threads)
        {
            return;
        }

        int unit = index >> 4, m = index & 15, t = m & 3;
        var lane = RoundLane<TMma>(x, 0, unit * UnitCols, k, m, nibbles);
        int at = (unit >> 2) * 18 * 4, word = unit & 3;
        if (lane.H == 0)
        {
            words[at + (((4 * lane.J) + t) * 4) + word] = lane.Low;
        }
        else
        {
            words[at + (((4 * (lane.J + 1)) + t) * 4) + word] = lane.High;
        }

        if (m == 0)
        {
            words[at + (16 * 4) + word] = Interop.FloatAsInt(lane.Max / 127f);
            words[at + (17 * 4) + word] = (uint)lane.Sum;
        }
    }

    /// <summary>What thread <c>m</c> of a unit's 16 holds after rounding: x's words of positions J and J + 1 for lane t = m % 4
    /// (each whole in the thread that writes it: <see cref="H"/> 0 writes Low, 1 writes High), the |x|max of the unit's
    /// block of 128 columns and the unit's Σ q.</summary>
    private struct RoundedLane
    {
        public uint Low, High;
        public int J, H, Sum;
        public float Max;
    }

    /// <summary>One thread's share of rounding the unit of 64 columns that starts at column <paramref name="unitCol"/> of
    /// the row at <paramref name="row"/> (columns <paramref name="unitCol"/> + 4m … + 3, 0 from <paramref name="k"/> on), as
    /// <see cref="QuantizeKernel{TMma}"/> documents; the 16 threads of a unit are 16 consecutive lanes of one warp, and the
    /// other 16 lanes of that warp round the other unit of its block (units 2s and 2s + 1 share a warp). <paramref name="placement"/>
    /// says whose words: 0 for 2-bit codes, 1 for 4-bit, 2 for 8-bit (J the k-block, the whole word in Low: bytes q0, q2,
    /// q1, q3, the weights' byte order of columns 4t … 4t + 3).</summary>
    private static RoundedLane RoundLane<TMma>(ArrayView<float> x, long row, int unitCol, int k, int m, int placement)
        where TMma : struct, TensorCoreMma.IMma
    {
        var mma = default(TMma);
        int kb = m >> 2;
        int col = unitCol + (4 * m);
        long at = row + col;
        float v0 = col < k ? x[at] : 0f, v1 = col + 1 < k ? x[at + 1] : 0f, v2 = col + 2 < k ? x[at + 2] : 0f, v3 = col + 3 < k ? x[at + 3] : 0f;
        float max = Math.Max(Math.Max(Math.Abs(v0), Math.Abs(v1)), Math.Max(Math.Abs(v2), Math.Abs(v3)));
        max = Math.Max(max, Warp.ShuffleXor(max, 1));
        max = Math.Max(max, Warp.ShuffleXor(max, 2));
        max = Math.Max(max, Warp.ShuffleXor(max, 4));
        max = Math.Max(max, Warp.ShuffleXor(max, 8));
        max = Math.Max(max, Warp.ShuffleXor(max, 16)); // the unit pair's block of 128 columns
        float inverse = max > 0f ? 127f / max : 0f;
        // The products rounded on their own: fused into RoundToInt's addition (ptxas contracts mul.f32 + add.f32), a product
        // within an ulp of a half rounds differently from the host's RoundActivations (seen on an H200: rel.err 1e-4).
        int q0 = RoundToInt(mma.MultiplyRounded(v0, inverse)), q1 = RoundToInt(mma.MultiplyRounded(v1, inverse));
        int q2 = RoundToInt(mma.MultiplyRounded(v2, inverse)), q3 = RoundToInt(mma.MultiplyRounded(v3, inverse));

        // Columns 4m, 4m + 1 are position j = 2·(kb % 2) (bytes h, h + 2 with h = kb / 2), 4m + 2, 4m + 3 position j + 1;
        // the thread 8 on (kb + 2) holds the other two bytes of both words. Nibbles: j = 2·(kb / 2), h = kb % 2, and the
        // thread 4 on (kb ^ 1) holds the other bytes.
        bool four = placement == 1, bytes = placement == 2;
        int h = four ? kb & 1 : bytes ? 0 : kb >> 1, shift = 8 * h;
        uint low = ((uint)(q0 & 0xFF) << shift) | ((uint)(q1 & 0xFF) << (shift + 16));
        uint high = ((uint)(q2 & 0xFF) << shift) | ((uint)(q3 & 0xFF) << (shift + 16));
        if (bytes)
        {
            low |= high << 8;
        }
        else
        {
            int partner = four ? 4 : 8;
            low |= Warp.ShuffleXor(low, partner);
            high |= Warp.ShuffleXor(high, partner);
        }

        int sum = q0 + q1 + q2 + q3;
        sum += Warp.ShuffleXor(sum, 1);
        sum += Warp.ShuffleXor(sum, 2);
        sum += Warp.ShuffleXor(sum, 4);
        sum += Warp.ShuffleXor(sum, 8);
        return new RoundedLane { Low = low, High = high, J = bytes ? kb : four ? 2 * (kb >> 1) : 2 * (kb & 1), H = h, Sum = sum, Max = max };
    }

    /// <summary>Rounds <paramref name="x"/> (one activation row) in place as <see cref="QuantizeKernel{TMma}"/> does:
    /// per 128 columns q = round(x · (127 / |x|max)) in f32, ties to even, then q · (|x|max / 127). A layer that runs
    /// elsewhere than this kernel applies it to x first (<see cref="Layers.QuantizedLinear{TScheme}"/>), so that an
    /// evaluation on any device sees what the rounding costs.</summary>
    public static void RoundActivations(Span<float> x)
    {
        for (int start = 0; start < x.Length; start += XBlockCols)
        {
            var block = x.Slice(start, Math.Min(XBlockCols, x.Length - start));
            float max = 0f;
            foreach (float v in block)
            {
                max = Math.Max(max, Math.Abs(v));
            }

            float inverse = max > 0f ? 127f / max : 0f, step = max / 127f;
            for (int i = 0; i < block.Length; i++)
            {
                block[i] = RoundToInt(block[i] * inverse) * step;
            }
        }
    }

    /// <summary>v rounded to the nearest integer, ties to even, for |v| &lt; 2^22: 1.5·2^23 + v has an ulp of 1, so its
    /// low mantissa bits are the rounded value (the same single f32 addition on every backend).</summary>
    internal static int RoundToInt(float v) => (int)Interop.FloatAsInt(v + 12582912f) - 0x4B400000;

    /// <summary><paramref name="v"/> as a float, exactly for |v| &lt; 2^22, without a conversion instruction: 1.5·2^23 has an
    /// ulp of 1, so adding v to its bits is the float 1.5·2^23 + v, and one subtraction leaves v. Two instructions that
    /// issue at full rate where <c>cvt.rn.f32.s32</c> is one that issues at 16 per clock and SM on compute capability 9.0:
    /// which is cheaper depends on what bounds the kernel (perf/gemv.md, session 34).</summary>
    internal static float ExactFloat(int v) => Interop.IntAsFloat((uint)(v + 0x4B400000)) - 12582912f;

    /// <summary>A byte (0…255) as a float without a conversion instruction: its bits under 2^23's, less 2^23.</summary>
    internal static float ByteFloat(uint b) => Interop.IntAsFloat(b | 0x4B000000u) - 8388608f;

    /// <summary>An 8-byte word as a pair, low word first.</summary>
    internal static Pair PairOf(ulong word) => new() { Low = (uint)word, High = (uint)(word >> 32) };

    /// <summary>A scale or zero-point word pair: this lane's row of two tiles.</summary>
    internal struct Pair
    {
        public uint Low, High;
    }

    /// <summary>What a warp reads for one slab (four units), loaded a slab ahead: the four tiles' quads, this lane's x
    /// words, the units' x scales and Σ q, and this lane's scale and zero-point pairs of each unit's group.</summary>
    private struct Slab
    {
        public TensorCoreGemv.Quad A, B, C, D, X, XScale, XSum;
        public uint S0, S1, S2, S3, Z0, Z1, Z2, Z3;

        /// <summary>3-bit codes: each tile's two words of third bits (low: units 0 and 1, high: units 2 and 3).</summary>
        public Pair HA, HB, HC, HD;
    }

    /// <summary>
    /// One warp: the block's 4 tiles (32 rows: A operands ab and cd) over its share of the slabs, four units of 64
    /// columns per slab; everything the next slab needs (weights, x, scales, zero points) is loaded while this one is
    /// computed, so that no unit waits on a load. Lane (g, t) computes rows g of tiles 2·(t / 2) and 2·(t / 2) + 1 over
    /// positions 2·(t % 2) and + 1; per unit it trades one row's sum with lane t ^ 1 (<see cref="RowSplit"/>) and ends
    /// with row g of tile 2·(t / 2) + t % 2 over every position, summed across the warps in shared memory.
    /// </summary>
    internal static void GemvKernel<TMma, TSymmetric, TWarps, TThird, TFour, TPaired>(ArrayView<uint> packed, ArrayView<uint> scales, ArrayView<uint> zeros, ArrayView<uint> words, ArrayView<float> y, Int8ActivationGemvShape s, ulong packedAddress)
        where TMma : struct, TensorCoreMma.IMma
        where TSymmetric : struct, TensorCoreGemv.IConstant
        where TWarps : struct, TensorCoreGemv.IConstant
        where TThird : struct, TensorCoreGemv.IConstant
        where TFour : struct, TensorCoreGemv.IConstant
        where TPaired : struct, TensorCoreGemv.IConstant
    {
        var mma = default(TMma);
        mma.UseOperands(mma.AllocateOperands()); // first, by every thread: the emulated mma's exchange
        int lane = Warp.LaneIdx, g = lane >> 2, t = lane & 3, warp = Warp.WarpIdx, block = Grid.IdxX;
        int tile0 = block * MmaPackedWeights.TileBlock;
        int warps = default(TWarps).Value;
        int perWarp = (s.Slabs + warps - 1) / warps;
        int slabStart = Math.Min(s.Slabs, warp * perWarp), slabEnd = Math.Min(s.Slabs, slabStart + perWarp);
        int pairTile = 2 * (t >> 1);
        var loads = new Loads(packed, scales, zeros, words, s, packedAddress, tile0, lane, g, t, pairTile, block);

        // The first slab's weights before waiting for x (they do not depend on it), its x after.
        var current = default(Slab);
        if (slabStart < slabEnd)
        {
            loads.Weights<TMma, TThird>(mma, ref current, slabStart, true);
            loads.Groups<TSymmetric, TFour, TPaired>(ref current, slabStart);
        }

        mma.WaitForPrimary(); // x's rounding, launched just before (programmatic dependent launch)
        if (slabStart < slabEnd)
        {
            loads.Activations<TFour>(ref current, slabStart);
        }

        // B: lane g holds x of position g % 4, in the one mma slot whose column is g.
        var e = new Lanes(g);
        int scaleShift = 16 * (g & 1), zeroShift = 8 * (g & 3);
        var split = new RowSplit(t, default(TFour).Value == 1 ? 1 : 16, default(TFour).Value == 1 || default(TThird).Value == 1 ? 16 : 64);
        float acc = 0f;

        // Two slabs per turn in two sets of registers that take turns, so that no slab is copied across the back edge
        // (a copy per turn was ~60 of ~380 instructions per slab).
        // (Two slabs in flight through a cp.async ring in shared memory measured 5–17 % slower, and L2 prefetches of the
        // weights 1–3 slabs further ahead 7–15 % slower: perf/gemv.md, session 26. x's words loaded at the top of their
        // own slab instead of a slab ahead, which session 26 kept for 3-bit codes while their kernel spilled, measured
        // 3–6 % slower once it no longer did: session 29.)
        var other = default(Slab);
        for (int slab = slabStart; slab < slabEnd; slab += 2)
        {
            loads.Next<TMma, TSymmetric, TThird, TFour, TPaired>(mma, ref other, slab + 1, slabEnd);
            Compute<TMma, TSymmetric, TThird, TFour, TPaired>(mma, current, scaleShift, zeroShift, split, e, ref acc);
            if (slab + 1 >= slabEnd)
            {
                break;
            }

            loads.Next<TMma, TSymmetric, TThird, TFour, TPaired>(mma, ref current, slab + 2, slabEnd);
            Compute<TMma, TSymmetric, TThird, TFour, TPaired>(mma, other, scaleShift, zeroShift, split, e, ref acc);
        }

        // Lane t holds row g of tile pairTile + t % 2 in units of λ_odd = 1 / ZeroWeight (RowSplit).
        var partial = SharedMemory.Allocate<float>(default(TWarps).Value * 32);
        partial[(warp * 32) + ((pairTile + (t & 1)) * 8) + g] = acc / split.ZeroWeight;

        Group.Barrier();
        int thread = Group.IdxX;
        if (thread < 32)
        {
            int row = (tile0 * MmaPackedWeights.TileRows) + thread;
            float sum = 0f;
            for (int w = 0; w < warps; w++)
            {
                sum += partial[(w * 32) + thread];
            }

            if (row < s.Rows)
            {
                y[row] = sum;
            }
        }
    }

    /// <summary>The four units of slab <paramref name="c"/> (4-bit codes: its two).</summary>
    private static void Compute<TMma, TSymmetric, TThird, TFour, TPaired>(TMma mma, Slab c, int scaleShift, int zeroShift, RowSplit split, Lanes e, ref float acc)
        where TMma : struct, TensorCoreMma.IMma
        where TSymmetric : struct, TensorCoreGemv.IConstant
        where TThird : struct, TensorCoreGemv.IConstant
        where TFour : struct, TensorCoreGemv.IConstant
        where TPaired : struct, TensorCoreGemv.IConstant
    {
        if (default(TPaired).Value == 1)
        {
            c.S1 = c.S0;
            c.Z1 = c.Z0;
            c.S3 = c.S2;
            c.Z3 = c.Z2;
        }

        if (default(TThird).Value == 1)
        {
            MergedUnit<TMma, TSymmetric>(mma, c.A.X, c.B.X, c.C.X, c.D.X, c.HA.Low, c.HB.Low, c.HC.Low, c.HD.Low, 0, c.X.X, c.XScale.X, c.XSum.X, c.S0, c.Z0, scaleShift, zeroShift, split, e, ref acc);
            MergedUnit<TMma, TSymmetric>(mma, c.A.Y, c.B.Y, c.C.Y, c.D.Y, c.HA.Low, c.HB.Low, c.HC.Low, c.HD.Low, 1, c.X.Y, c.XScale.Y, c.XSum.Y, c.S1, c.Z1, scaleShift, zeroShift, split, e, ref acc);
            MergedUnit<TMma, TSymmetric>(mma, c.A.Z, c.B.Z, c.C.Z, c.D.Z, c.HA.High, c.HB.High, c.HC.High, c.HD.High, 0, c.X.Z, c.XScale.Z, c.XSum.Z, c.S2, c.Z2, scaleShift, zeroShift, split, e, ref acc);
            MergedUnit<TMma, TSymmetric>(mma, c.A.W, c.B.W, c.C.W, c.D.W, c.HA.High, c.HB.High, c.HC.High, c.HD.High, 1, c.X.W, c.XScale.W, c.XSum.W, c.S3, c.Z3, scaleShift, zeroShift, split, e, ref acc);
            return;
        }

        if (default(TFour).Value == 1)
        {
            NibbleUnit<TMma, TSymmetric>(mma, c.A.X, c.A.Y, c.B.X, c.B.Y, c.C.X, c.C.Y, c.D.X, c.D.Y, c.X.X, c.XScale.X, c.XSum.X, c.S0, c.Z0, scaleShift, zeroShift, split, e, ref acc);
            NibbleUnit<TMma, TSymmetric>(mma, c.A.Z, c.A.W, c.B.Z, c.B.W, c.C.Z, c.C.W, c.D.Z, c.D.W, c.X.Y, c.XScale.Y, c.XSum.Y, c.S1, c.Z1, scaleShift, zeroShift, split, e, ref acc);
            return;
        }

        Unit<TMma, TSymmetric>(mma, c.A.X, c.B.X, c.C.X, c.D.X, c.X.X, c.XScale.X, c.XSum.X, c.S0, c.Z0, scaleShift, zeroShift, split, e, ref acc);
        Unit<TMma, TSymmetric>(mma, c.A.Y, c.B.Y, c.C.Y, c.D.Y, c.X.Y, c.XScale.Y, c.XSum.Y, c.S1, c.Z1, scaleShift, zeroShift, split, e, ref acc);
        Unit<TMma, TSymmetric>(mma, c.A.Z, c.B.Z, c.C.Z, c.D.Z, c.X.Z, c.XScale.Z, c.XSum.Z, c.S2, c.Z2, scaleShift, zeroShift, split, e, ref acc);
        Unit<TMma, TSymmetric>(mma, c.A.W, c.B.W, c.C.W, c.D.W, c.X.W, c.XScale.W, c.XSum.W, c.S3, c.Z3, scaleShift, zeroShift, split, e, ref acc);
    }

    /// <summary>The lane masks that place x in the mma slot whose B column is this lane's g.</summary>
    private readonly struct Lanes
    {
        public readonly uint E0, E1, E2, E3, E4, E5, E6, E7;

        public Lanes(int g)
        {
            E0 = g == 0 ? uint.MaxValue : 0u;
            E1 = g == 1 ? uint.MaxValue : 0u;
            E2 = g == 2 ? uint.MaxValue : 0u;
            E3 = g == 3 ? uint.MaxValue : 0u;
            E4 = g == 4 ? uint.MaxValue : 0u;
            E5 = g == 5 ? uint.MaxValue : 0u;
            E6 = g == 6 ? uint.MaxValue : 0u;
            E7 = g == 7 ? uint.MaxValue : 0u;
        }
    }

    /// <summary>Where a warp's loads come from: the tiles' quads (streamed past L1), x's words and units (<see
    /// cref="QuantizeKernel{TMma}"/>'s layout), and this lane's scale and zero-point pairs.</summary>
    private readonly struct Loads
    {
        private readonly ArrayView<TensorCoreGemv.Quad> quads, xQuads;
        private readonly ArrayView<uint> scaleWords, zeroWords;
        private readonly ArrayView<Pair> xPairs;
        private readonly ArrayView<ulong> highWords;
        private readonly ulong packedAddress;
        private readonly long tiles, highs;
        private readonly int step, xLane, groups, unitShift, laneScale, laneZero, lane;

        public Loads(ArrayView<uint> packed, ArrayView<uint> scales, ArrayView<uint> zeros, ArrayView<uint> words, Int8ActivationGemvShape s, ulong packedAddress, int tile0, int lane, int g, int t, int pairTile, int block)
        {
            quads = packed.Cast<TensorCoreGemv.Quad>();
            xQuads = words.Cast<TensorCoreGemv.Quad>();
            xPairs = words.Cast<Pair>();
            scaleWords = scales;
            zeroWords = zeros;
            this.packedAddress = packedAddress;
            this.lane = lane;
            tiles = (long)tile0 * s.Slabs * 32;
            highWords = packed.Cast<ulong>();
            highs = MmaPackedWeights.HighPlanePairs(s.Tiles, s.Slabs) + tiles;
            step = s.Slabs * 32;
            xLane = (4 * (g & 3)) + t;
            groups = s.Groups;
            unitShift = s.UnitShift;
            // This lane's row's words (RowSplit: row g of tile pairTile + t % 2): per block and group 16 scale words (two
            // halves each), 8 zero-point words (four bytes each). (The half and the byte loaded alone, which spares the
            // flush a shift and a mask, measured 2–4 % slower for 2-bit codes on an H200: perf/gemv.md, session 35.)
            laneScale = (((((block * s.Groups * 4) + (g >> 1)) * 2) + (pairTile >> 1)) * 2) + (t & 1);
            laneZero = (((((block * s.Groups * 2) + (g >> 2)) * 2) + (pairTile >> 1)) * 2) + (t & 1);
        }

        /// <summary>Slab <paramref name="at"/> of a warp whose slabs end at <paramref name="end"/>, without a branch: past
        /// the end the weights are not read (a predicated load) and the rest is read at the last slab, never used. A load
        /// behind a branch kept the register set's previous contents live around the loop, so ptxas copied it every turn
        /// (~45 moves per turn of the 2-bit loop). On an H200 2-bit decode measured 4–10 % faster without the branch, 4-bit
        /// level, 3-bit 1–4 % faster once its third bits were streamed too (5 % slower before: perf/gemv.md, session 35).</summary>
        public void Next<TMma, TSymmetric, TThird, TFour, TPaired>(TMma mma, ref Slab slab, int at, int end)
            where TMma : struct, TensorCoreMma.IMma
            where TSymmetric : struct, TensorCoreGemv.IConstant
            where TThird : struct, TensorCoreGemv.IConstant
            where TFour : struct, TensorCoreGemv.IConstant
            where TPaired : struct, TensorCoreGemv.IConstant
        {
            bool load = at < end;
            at = Math.Min(at, end - 1);
            Weights<TMma, TThird>(mma, ref slab, at, load);
            Groups<TSymmetric, TFour, TPaired>(ref slab, at);
            Activations<TFour>(ref slab, at);
        }

        public void Weights<TMma, TThird>(TMma mma, ref Slab slab, int at, bool load)
            where TMma : struct, TensorCoreMma.IMma
            where TThird : struct, TensorCoreGemv.IConstant
        {
            long first = tiles + ((long)at * 32) + lane;
            slab.A = mma.LoadStreamingIf(quads, first, packedAddress, load);
            slab.B = mma.LoadStreamingIf(quads, first + step, packedAddress, load);
            slab.C = mma.LoadStreamingIf(quads, first + (2 * step), packedAddress, load);
            slab.D = mma.LoadStreamingIf(quads, first + (3 * step), packedAddress, load);
            if (default(TThird).Value == 1)
            {
                // 3-bit codes: the third bits' plane, one 8-byte load per lane and tile (the low plane's indexing in pairs),
                // streamed past L1 as the low plane is (generic loads through L1 before: on an H200 3-bit decode 2–4 %
                // faster this way, perf/gemv.md, session 35).
                long high = highs + ((long)at * 32) + lane;
                slab.HA = PairOf(mma.LoadStreamingPair(highWords, high, packedAddress));
                slab.HB = PairOf(mma.LoadStreamingPair(highWords, high + step, packedAddress));
                slab.HC = PairOf(mma.LoadStreamingPair(highWords, high + (2 * step), packedAddress));
                slab.HD = PairOf(mma.LoadStreamingPair(highWords, high + (3 * step), packedAddress));
            }
        }

        public void Activations<TFour>(ref Slab slab, int at)
            where TFour : struct, TensorCoreGemv.IConstant
        {
            // Per block of four units: 16 lane quads (this lane's word of each unit), then the four scales and sums. A
            // 4-bit slab is half a block: one pair of each (X and Y).
            if (default(TFour).Value == 1)
            {
                int half = at & 1, block = at >> 1;
                var words = xPairs[(((block * 18) + xLane) * 2) + half];
                var unitScales = xPairs[(((block * 18) + 16) * 2) + half];
                var sums = xPairs[(((block * 18) + 17) * 2) + half];
                slab.X.X = words.Low;
                slab.X.Y = words.High;
                slab.XScale.X = unitScales.Low;
                slab.XScale.Y = unitScales.High;
                slab.XSum.X = sums.Low;
                slab.XSum.Y = sums.High;
                return;
            }

            slab.X = xQuads[(at * 18) + xLane];
            slab.XScale = xQuads[(at * 18) + 16];
            slab.XSum = xQuads[(at * 18) + 17];
        }

        /// <summary>The slab's group constants; where <typeparamref name="TPaired"/> says units 2u and 2u + 1 share a
        /// group, only those of units 0 and 2 (<see cref="Compute{TMma, TSymmetric, TThird, TFour, TPaired}"/> reuses them).</summary>
        public void Groups<TSymmetric, TFour, TPaired>(ref Slab slab, int at)
            where TSymmetric : struct, TensorCoreGemv.IConstant
            where TFour : struct, TensorCoreGemv.IConstant
            where TPaired : struct, TensorCoreGemv.IConstant
        {
            bool four = default(TFour).Value == 1; // two units per slab
            bool paired = default(TPaired).Value == 1;
            int unit = (four ? 2 : 4) * at;
            int g0 = Math.Min(unit >> unitShift, groups - 1), g1 = Math.Min((unit + 1) >> unitShift, groups - 1);
            slab.S0 = scaleWords[laneScale + (16 * g0)];
            if (!paired)
            {
                slab.S1 = scaleWords[laneScale + (16 * g1)];
            }

            if (default(TSymmetric).Value == 0)
            {
                slab.Z0 = zeroWords[laneZero + (8 * g0)];
                if (!paired)
                {
                    slab.Z1 = zeroWords[laneZero + (8 * g1)];
                }
            }

            if (four)
            {
                return;
            }

            int g2 = Math.Min((unit + 2) >> unitShift, groups - 1), g3 = Math.Min((unit + 3) >> unitShift, groups - 1);
            slab.S2 = scaleWords[laneScale + (16 * g2)];
            if (!paired)
            {
                slab.S3 = scaleWords[laneScale + (16 * g3)];
            }

            if (default(TSymmetric).Value == 0)
            {
                slab.Z2 = zeroWords[laneZero + (8 * g2)];
                if (!paired)
                {
                    slab.Z3 = zeroWords[laneZero + (8 * g3)];
                }
            }
        }
    }

    /// <summary>One unit of 64 columns of 2-bit codes: the four tiles' words of this lane (<paramref name="a"/>…<paramref name="d"/>),
    /// x's word <paramref name="xw"/>, the unit's x scale and Σ q, and the scale and zero-point words of the row this lane
    /// keeps; four mmas into one set of accumulators, then the flush into this lane's row sum.</summary>
    private static void Unit<TMma, TSymmetric>(TMma mma, uint a, uint b, uint c, uint d, uint xw, uint xScale, uint xSum, uint scale, uint zero, int scaleShift, int zeroShift, RowSplit split, Lanes e, ref float acc)
        where TMma : struct, TensorCoreMma.IMma
        where TSymmetric : struct, TensorCoreGemv.IConstant
    {
        const uint M0 = 0x03030303u, M1 = 0x0C0C0C0Cu, M2 = 0x30303030u, M3 = 0xC0C0C0C0u;
        ulong p = 0, q = 0;
        mma.MultiplyInt8(ref p, ref q, a & M0, b & M0, a & M1, b & M1, xw & e.E0, xw & e.E1);
        mma.MultiplyInt8(ref p, ref q, a & M2, b & M2, a & M3, b & M3, xw & e.E2, xw & e.E3);
        mma.MultiplyInt8(ref p, ref q, c & M0, d & M0, c & M1, d & M1, xw & e.E4, xw & e.E5);
        mma.MultiplyInt8(ref p, ref q, c & M2, d & M2, c & M3, d & M3, xw & e.E6, xw & e.E7);
        Flush<TMma, TSymmetric>(mma, (4 * (int)p) + (int)(p >> 32), (4 * (int)q) + (int)(q >> 32), 2, xScale, xSum, scale, zero, scaleShift, zeroShift, split, ref acc);
    }

    /// <summary>A tile word of 3-bit codes' low two bits with their third bits merged in: the third bit of position j in
    /// byte b sits at bit <c>2j + parity</c> of byte b of the third-bit word <paramref name="third"/>
    /// (<see cref="MmaPackedWeights"/>), so <c>Select(word, third &lt;&lt; (2 − parity), 0x33333333)</c> (Low) holds
    /// positions 0 and 2 of each byte as 3-bit fields at bits 0 and 4 (low bits where they lie, third bits at 2 and 6), and
    /// <c>Select(word &gt;&gt; 2, third &gt;&gt; parity, 0x33333333)</c> (High) positions 1 and 3. Bits 3 and 7 of each byte
    /// are not the code's: masks 0x07 and 0x70 per byte make bytes of value code and 16·code, as nibbles do.</summary>
    private static Pair MergeThirdBits<TMma>(TMma mma, uint word, uint third, int parity)
        where TMma : struct, TensorCoreMma.IMma
    {
        const uint Pick = 0x33333333u;
        return new Pair { Low = mma.Select(word, third << (2 - parity), Pick), High = mma.Select(word >> 2, third >> parity, Pick) };
    }

    /// <summary>One unit of 64 columns of 3-bit codes with each code's third bit merged into its low two
    /// (<see cref="MergeThirdBits{TMma}"/>: per tile word positions 0, 2 and 1, 3 as 3-bit fields). Position j's bytes meet x only in column j (column 4 + j for tiles c, d), so
    /// lane t's columns are positions 0, 1 (values code, code) or 2, 3 (16·code each): U = c0 + c1 with λ = 1 or 1/16.
    /// Four mmas per unit where a second set of four for the third bits took eight (4–9 % slower on an H200: perf/gemv.md,
    /// session 28), for two shifts and two selects per tile word in place of four masks.</summary>
    private static void MergedUnit<TMma, TSymmetric>(TMma mma, uint a, uint b, uint c, uint d, uint ha, uint hb, uint hc, uint hd, int parity, uint xw, uint xScale, uint xSum, uint scale, uint zero, int scaleShift, int zeroShift, RowSplit split, Lanes e, ref float acc)
        where TMma : struct, TensorCoreMma.IMma
        where TSymmetric : struct, TensorCoreGemv.IConstant
    {
        const uint L = 0x07070707u, H = 0x70707070u;
        var ma = MergeThirdBits(mma, a, ha, parity);
        var mb = MergeThirdBits(mma, b, hb, parity);
        var mc = MergeThirdBits(mma, c, hc, parity);
        var md = MergeThirdBits(mma, d, hd, parity);
        ulong p = 0, q = 0;
        mma.MultiplyInt8(ref p, ref q, ma.Low & L, mb.Low & L, ma.Low & H, mb.Low & H, xw & e.E0, xw & e.E2);
        mma.MultiplyInt8(ref p, ref q, ma.High & L, mb.High & L, ma.High & H, mb.High & H, xw & e.E1, xw & e.E3);
        mma.MultiplyInt8(ref p, ref q, mc.Low & L, md.Low & L, mc.Low & H, md.Low & H, xw & e.E4, xw & e.E6);
        mma.MultiplyInt8(ref p, ref q, mc.High & L, md.High & L, mc.High & H, md.High & H, xw & e.E5, xw & e.E7);
        Flush<TMma, TSymmetric>(mma, (int)p + (int)(p >> 32), (int)q + (int)(q >> 32), 4, xScale, xSum, scale, zero, scaleShift, zeroShift, split, ref acc);
    }

    /// <summary>One unit of 64 columns of 4-bit codes: each tile's two words of this lane (<paramref name="a0"/>,
    /// <paramref name="a1"/> for tile a, …) are positions 0, 1 (word 0's low and high nibbles) and 2, 3 (word 1's), of
    /// value code and 16·code, so U = 16·c0 + c1 and λ = 1/16 on every lane; then the flush as 2-bit codes have it.</summary>
    private static void NibbleUnit<TMma, TSymmetric>(TMma mma, uint a0, uint a1, uint b0, uint b1, uint c0, uint c1, uint d0, uint d1, uint xw, uint xScale, uint xSum, uint scale, uint zero, int scaleShift, int zeroShift, RowSplit split, Lanes e, ref float acc)
        where TMma : struct, TensorCoreMma.IMma
        where TSymmetric : struct, TensorCoreGemv.IConstant
    {
        const uint L = 0x0F0F0F0Fu, H = 0xF0F0F0F0u;
        ulong p = 0, q = 0;
        mma.MultiplyInt8(ref p, ref q, a0 & L, b0 & L, a0 & H, b0 & H, xw & e.E0, xw & e.E1);
        mma.MultiplyInt8(ref p, ref q, a1 & L, b1 & L, a1 & H, b1 & H, xw & e.E2, xw & e.E3);
        mma.MultiplyInt8(ref p, ref q, c0 & L, d0 & L, c0 & H, d0 & H, xw & e.E4, xw & e.E5);
        mma.MultiplyInt8(ref p, ref q, c1 & L, d1 & L, c1 & H, d1 & H, xw & e.E6, xw & e.E7);
        int low = (16 * (int)(uint)p) + (int)(uint)(p >> 32);
        int high = (16 * (int)(uint)q) + (int)(uint)(q >> 32);
        Flush<TMma, TSymmetric>(mma, low, high, 8, xScale, xSum, scale, zero, scaleShift, zeroShift, split, ref acc);
    }

    /// <summary>A unit's flush into this lane's row sum, in units of λ_odd (<see cref="RowSplit"/>): the lane keeps one of
    /// its two rows' U and sends the other to lane t ^ 1, which holds the same rows' other positions; the row's sum is then
    /// the integer R·U_even + U_odd − zero·Σ q/λ_odd (|·| &lt; 2^21: exact in a float), scaled by the row's scale and the
    /// unit's x scale. Each lane scales one row where it scaled two, and converts one integer where it converted two sums
    /// and two zero points: on an H200, 3–4 % off 2-bit decode, 3- and 4-bit level (perf/gemv.md, session 35).
    /// <paramref name="symmetricZero"/> is 2^(bits − 1).</summary>
    private static void Flush<TMma, TSymmetric>(TMma mma, int low, int high, int symmetricZero, uint xScale, uint xSum, uint scale, uint zero, int scaleShift, int zeroShift, RowSplit split, ref float acc)
        where TMma : struct, TensorCoreMma.IMma
        where TSymmetric : struct, TensorCoreGemv.IConstant
    {
        bool odd = split.Odd != 0;
        int received = Warp.ShuffleXor(odd ? low : high, 1);
        int kept = odd ? high : low;
        int zeroPoint = symmetricZero;
        if (default(TSymmetric).Value == 0)
        {
            zeroPoint = (int)((zero >> zeroShift) & 0xFF);
        }

        int sum = (split.KeptWeight * kept) + (split.ReceivedWeight * received) + (zeroPoint * ((int)xSum * -split.ZeroWeight));
        acc += mma.HalfToFloat(scale >> scaleShift) * (Interop.IntAsFloat(xScale) * sum);
    }

    /// <summary>How lanes t and t ^ 1, which hold the same two rows (row g of tiles 2·(t / 2) and + 1) over different
    /// positions, share the flush: even lanes keep the first tile's row, odd lanes the second's. Lane t's columns weigh
    /// λ_even or λ_odd per unit of U (2-bit codes 1/4 and 1/64, 3-bit 1 and 1/16, 4-bit 1/16 both), so a row's sum in
    /// units of λ_odd is ratio·U_even + U_odd (ratio = λ_even / λ_odd: the weight one lane of the pair gives its own sum, the other the
    /// sum it receives), an integer; <see cref="ZeroWeight"/> is 1/λ_odd.</summary>
    private readonly struct RowSplit
    {
        public readonly int Odd, ZeroWeight, KeptWeight, ReceivedWeight;

        public RowSplit(int t, int ratio, int zeroWeight)
        {
            Odd = t & 1;
            ZeroWeight = zeroWeight;
            KeptWeight = Odd == 0 ? ratio : 1;
            ReceivedWeight = Odd == 0 ? 1 : ratio;
        }
    }
}
