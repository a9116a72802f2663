using System;
using ILGPU;
using ILGPU.Runtime;
using ILGPU.Runtime.Cuda;
using KernelGen.Quantization;

namespace KernelGen.Backends;

/// <summary>Shape of one <see cref="TensorCoreGemv"/> launch (see <see cref="MmaPackedWeights"/> for the terms).</summary>
/// <param name="Rows">N.</param>
/// <param name="Cols">K (a multiple of 4).</param>
/// <param name="Bits">Bits per code: 2, 3, 4 or 8.</param>
/// <param name="Tiles">Tiles of 8 rows.</param>
/// <param name="Slabs">Slabs per tile.</param>
/// <param name="Groups">Groups per row of the padded K.</param>
/// <param name="SlabsPerGroup">Slabs per group when a group spans whole slabs (per-channel: all of them); else 0.</param>
/// <param name="Symmetric">1 when the zero point is fixed at 2^(bits−1).</param>
/// <param name="M">Activation rows, 1 to 16.</param>
public readonly record struct TensorCoreGemvShape(int Rows, int Cols, int Bits, int Tiles, int Slabs, int Groups, int SlabsPerGroup, int Symmetric, int M);

/// <summary>
/// Decode and small-batch y[M, N] = x[M, K] · Wᵀ (1 ≤ M ≤ 16) on tensor cores over weights in
/// <see cref="MmaPackedWeights"/> order. The weights are the mma's A operand (16 rows: two tiles) and x its B (one
/// column per activation row), so one <c>mma.sync.m16n8k16</c> covers 256 weights and every M ≤ 8 costs what M = 1
/// does (9–16 takes a second mma per A). Each warp streams 4 tiles (32 weight rows) over its share of K with one
/// 16-byte load per tile and slab, into registers or (<see cref="Stages"/>) with <c>cp.async</c> through shared memory;
/// the warps of a group split K and meet in shared memory. x is read in f32 and rounded to f16 in the kernel (one
/// launch), except where M &gt; 8 on large weights (<see cref="PreparesX"/>): there a first launch writes it in f16 as the
/// mma's B fragments (<see cref="TensorCoreGemm.PrepareKernel"/>), so that a lane loads each k-block's B registers of
/// both row halves with one 16-byte load, without conversions or bounds tests, and x's bytes through L2 (read once per
/// block of 32 rows: at 4 bits, four times the weights' in f32) halve.
/// <para>
/// Numbers, as in <see cref="TensorCoreGemm"/>: A is (code − zero) · scale rounded to f16 (one <c>lop3</c> to 1024 +
/// code·2^s, one <c>fma.f16x2</c> to code − zero exactly, one <c>mul.rn.f16x2</c> by the group's scale: relative
/// error ≤ 2^−11 per weight), B is x rounded to f16 (≤ 2^−11), and the mma accumulates in f32 over all of K, so a group
/// end only loads the next group's constants. Where groups span whole slabs and M ≤ 8, or M &gt; 8 with x prepared, or
/// at M = 1 with 3- or 4-bit codes also for groups inside a slab (<see cref="IVariant.ScaleAfter"/>),
/// A is code − zero alone (exact) and each group's f32 sums are multiplied by its scales when it closes; at M = 1, 2-bit
/// codes skip the subtraction too (A = 2^(10−s) + code, the group's offset and zero point removed from its f32 sums:
/// <see cref="IVariant.OffsetDecode"/>). On CUDA the mma is inline PTX; elsewhere (ILGPU's CPU accelerator with
/// 32-lane warps, which the tests use) the same fragment exchange is emulated with warp shuffles. (Until session 8 the
/// scale and zero point were applied per group in f32, with Σx from an all-ones mma: exact weights, but a flush per
/// group and ~20 more registers; gemv.md, v15.)
/// </para>
/// </summary>
public sealed class TensorCoreGemv
{
    /// <summary>Tiles of 8 rows per group (all its warps work on the same rows).</summary>
    public const int TilesPerGroup = MmaPackedWeights.TileBlock;

    /// <summary>Registers per thread ptxas may use when KERNELGEN_GEMV_MAXNREG sets it (0: no limit); otherwise −1: per
    /// variant, as <see cref="RegistersFor"/> says.</summary>
    public static readonly int MaxRegisters = int.TryParse(Environment.GetEnvironmentVariable("KERNELGEN_GEMV_MAXNREG"), out int r) ? r : -1;

    /// <summary>The register cap of a variant (0: none), unless <see cref="MaxRegisters"/> sets one. Where the row
    /// blocks do not outnumber the SMs (at most one block per SM: 4096 rows or fewer on an H100), none: a cap buys no
    /// occupancy there, and uncapped measured from 1 % slower to 3 % faster (2- and 4-bit, M = 1 and 16, on 1024×4096,
    /// 4096² and 4096×14336; gemv.md, session 16). Elsewhere 128, so that two groups of 256 threads share an SM
    /// (variants that took 140–168 registers ran at half that occupancy and slower; gemv.md), except for 3-bit codes in
    /// registers (stages 0, which <see cref="StagesFor"/> picks only for small grids) other than at M &gt; 8 with x
    /// prepared: under 128 they spill 150–270 bytes (their third bits are 8 more registers per slab in flight), and
    /// uncapped at one group per SM they measured 4–15 % faster at M = 1 and up to 29 % at M = 16 with x in f32 (H100,
    /// gemv.md, session 14). Through the shared-memory ring they fit 128 without spills. Groups of
    /// <see cref="WideWarpsPerGroup"/> warps (512 threads) must fit the SM's 64 Ki registers: 128.</summary>
    internal static int RegistersFor(int bits, int rows, bool prepared, int stages, bool blocksOutnumberSms, int warps)
        => warps > WarpsPerGroup ? 128 : MaxRegisters >= 0 ? MaxRegisters : !blocksOutnumberSms || (bits == 3 && stages == 0 && !(rows > 8 && prepared)) ? 0 : 128;

    /// <summary>Warps per group, each on a contiguous share of the slabs, where the row blocks outnumber the SMs (and
    /// wherever <see cref="WarpsFor"/> says so).</summary>
    public const int WarpsPerGroup = 8;

    /// <summary>Warps per group where the row blocks do not outnumber the SMs (<see cref="WarpsFor"/>).</summary>
    public const int WideWarpsPerGroup = 16;

    /// <summary>Whether groups of <see cref="WideWarpsPerGroup"/> warps run where <see cref="WarpsFor"/> picks them;
    /// KERNELGEN_GEMV_WIDE=0 keeps every group at <see cref="WarpsPerGroup"/>, for comparisons.</summary>
    public static readonly bool WideGroups = Environment.GetEnvironmentVariable("KERNELGEN_GEMV_WIDE") != "0";

    /// <summary>Slabs of weights each warp keeps in flight through <c>cp.async</c> into shared memory (2 or 3; 2 KiB
    /// per warp and slab), 0 to load them into registers, or −1: per kernel variant, as measured (<see cref="StagesFor"/>;
    /// KERNELGEN_GEMV_STAGES overrides).</summary>
    public static readonly int Stages = int.TryParse(Environment.GetEnvironmentVariable("KERNELGEN_GEMV_STAGES"), out int st) && st is 0 or 2 or 3 ? st : -1;

    /// <summary>Whether M = 1 runs the variant that stages x through shared memory (<see cref="IVariant.SharedX"/>);
    /// KERNELGEN_GEMV_SHAREDX=0 runs it as M ≤ 8 does (for comparisons).</summary>
    public static readonly bool SharedX = Environment.GetEnvironmentVariable("KERNELGEN_GEMV_SHAREDX") != "0";

    /// <summary>KERNELGEN_GEMV_NC=1 reads every variant's weights with <c>ld.global.nc</c>, 0 none, for comparisons; −1
    /// (unset): per variant, as <see cref="IVariant.Streaming"/> says.</summary>
    public static readonly int StreamingLoads = Environment.GetEnvironmentVariable("KERNELGEN_GEMV_NC") switch { "0" => 0, "1" => 1, _ => -1 };

    /// <summary>Whether every group form, groups inside a slab included (2-bit g64, 4-bit g32, …), scales each group's f32
    /// sums when it closes (<see cref="IVariant.ScaleAfter"/>) wherever groups spanning slabs do, instead of only where
    /// measured faster; KERNELGEN_GEMV_SCALEAFTER=1 turns it on, for comparisons.</summary>
    public static readonly bool ScaleAfterInside = Environment.GetEnvironmentVariable("KERNELGEN_GEMV_SCALEAFTER") == "1";

    /// <summary>The widest codes that M = 1 decodes with one <c>lop3</c> to 2^(10−s) + code, correcting each group's f32
    /// sums (<see cref="IVariant.OffsetDecode"/>): 2 (as measured faster), or 4 with KERNELGEN_GEMV_OFFSET=all and 0
    /// (none) with KERNELGEN_GEMV_OFFSET=0, for comparisons.</summary>
    public static readonly int OffsetBits = Environment.GetEnvironmentVariable("KERNELGEN_GEMV_OFFSET") switch { "0" => 0, "all" => 4, _ => 2 };

    /// <summary>Whether M &gt; 8 with 2-, 3- or 4-bit codes converts x to B fragments in a first launch
    /// (<see cref="IVariant.PreparedX"/>): null (KERNELGEN_GEMV_PREPAREX unset) where <see cref="PreparesX"/> finds it
    /// pays, false (0) never, true (1) always.</summary>
    public static readonly bool? PrepareX = Environment.GetEnvironmentVariable("KERNELGEN_GEMV_PREPAREX") switch { "0" => false, "1" => true, _ => null };

    private readonly Accelerator accelerator;
    private readonly int stages;
    private readonly bool? prepareX;
    private readonly Lazy<Action<int, ArrayView<float>, ArrayView<uint>, int, int, int, int>> prepare;
    private readonly System.Collections.Concurrent.ConcurrentDictionary<(int Bits, int GroupBlocks, int Rows, int Stages, bool Prepared, int Registers, int Warps), Action<KernelConfig, ArrayView<uint>, ArrayView<uint>, ArrayView<uint>, ArrayView<float>, ArrayView<uint>, ArrayView<float>, TensorCoreGemvShape>> kernels = new();

    /// <summary>Prepares the kernels for <paramref name="accelerator"/> (whose warps must be 32 lanes wide); each bit
    /// width, group form and M range (≤ 8 or more) is compiled on first use.</summary>
    /// <param name="accelerator">The device.</param>
    /// <param name="stages">Slabs in flight per warp through shared memory (0, 2 or 3, or −1: <see cref="StagesFor"/>);
    /// <see cref="Stages"/> when null.</param>
    /// <param name="prepareX">Whether M &gt; 8 with 2-, 3- or 4-bit codes converts x in a first launch: always, never, or
    /// (null) as <see cref="PrepareX"/> and <see cref="PreparesX"/> say.</param>
    public TensorCoreGemv(Accelerator accelerator, int? stages = null, bool? prepareX = null)
    {
        ArgumentNullException.ThrowIfNull(accelerator);
        if (stages is not (null or -1 or 0 or 2 or 3))
        {
            throw new ArgumentOutOfRangeException(nameof(stages), stages, "The GEMV keeps 0 (registers), 2 or 3 slabs in flight per warp, or −1 (per variant).");
        }

        this.stages = stages ?? Stages;
        if (accelerator.WarpSize != 32)
        {
            throw new NotSupportedException($"{accelerator.Name} has {accelerator.WarpSize}-lane warps; the mma fragments need 32.");
        }

        this.accelerator = accelerator;
        this.prepareX = prepareX ?? PrepareX;
        prepare = new(() => TensorCoreGemm.LoadPrepare(accelerator));
    }

    /// <summary>Words of the fragment buffer <see cref="Run"/> needs for <paramref name="m"/> activation rows where it
    /// converts x first (<see cref="PreparesX"/>): x's 16 rows in f16 over the weights' padded K, and four k-blocks more,
    /// which the kernel reads one word ahead past its last; 0 elsewhere.</summary>
    public long FragmentLength(MmaPackedWeights weights, int m)
    {
        ArgumentNullException.ThrowIfNull(weights);
        return PreparesX(weights, m) ? PreparedLength(weights) : 0;
    }

    /// <summary>Words of x as B fragments over <paramref name="weights"/>' padded K, with four spare k-blocks.</summary>
    private static long PreparedLength(MmaPackedWeights weights) => ((long)(weights.Slabs * weights.BlocksPerSlab) + 4) * 32 * 4;

    /// <summary>
    /// Whether <see cref="Run"/> with <paramref name="m"/> rows converts x to B fragments in a first launch
    /// (<see cref="IVariant.PreparedX"/>): only for M &gt; 8 with 2-, 3- or 4-bit codes, and there, where the constructor or
    /// <see cref="PrepareX"/> does not say, with at least <see cref="PrepareBytes"/> of codes. Measured on an H100 (gemv.md,
    /// v28), at M = 16: 4-bit 28672×8192 and 8192×28672 23–25 % faster, 2-bit 15–22 %, 8192² level; the second launch
    /// costs ~2–3 µs, so 4096² was 16–30 % slower, and 8-bit (x in f32 twice its codes' bytes, not 4 or 8 times) lost up
    /// to 12 %. (M ≤ 8 converted as well was slower everywhere but 28672×8192: fewer rows to save on, the same launch.)
    /// </summary>
    public bool PreparesX(MmaPackedWeights weights, int m)
    {
        ArgumentNullException.ThrowIfNull(weights);
        return RowsFor(m) > 8 && weights.Bits <= 4 && (prepareX ?? weights.Packed.LongLength * sizeof(uint) >= PrepareBytes);
    }

    /// <summary>Bytes of codes from which <see cref="PreparesX"/> converts x first: 16 MiB (32 MiB until session 22, as v28
    /// measured before x's conversion became cheap, prepare v4). Measured on an H100 at M = 16 (gemv.md, v42 and v43, x
    /// converted first against not, the rule measured before and after): q4g128 on Llama-3-8B's 14336×4096 and
    /// 4096×14336 (28 MiB) 22.1 and 20.5 µs against 26.1 and 27.3–27.4; q3g128 on 8192², 14336×4096 and 4096×14336
    /// (21–24 MiB) 9–13 % faster; q2g64 on 8192² (16 MiB) level and at 14 MiB 1–4 % faster; every scheme on 4096²
    /// (8–12 MiB) 4–14 % slower. 4-bit codes between 8 and 28 MiB were not measured.</summary>
    internal const long PrepareBytes = 16L << 20;

    /// <summary>
    /// True when this GEMV runs <paramref name="scheme"/> with K = <paramref name="cols"/>: the weights can be repacked
    /// (<see cref="MmaPackedWeights.Supports"/>), K is a multiple of 4 (x is read four floats at a time), and groups either span
    /// whole slabs (or the row: per-channel) or divide one (so group ends fall at fixed k-blocks).
    /// </summary>
    public static bool Supports(QuantSchemeInfo scheme, int cols)
    {
        ArgumentNullException.ThrowIfNull(scheme);
        if (!MmaPackedWeights.Supports(scheme, cols) || cols % 4 != 0)
        {
            return false;
        }

        return GroupsFit(scheme.IsPerChannel, scheme.GroupSize, MmaPackedWeights.SlabColsOf(scheme.Bits));
    }

    /// <summary>Whether group ends fall at slab ends or at fixed k-blocks inside a slab (per-channel: one group).</summary>
    private static bool GroupsFit(bool perChannel, int groupSize, int slabCols)
        => perChannel || groupSize % slabCols == 0 || slabCols % groupSize == 0;

    /// <summary>y[M, N] = x[M, K] · Wᵀ for 1 ≤ <paramref name="m"/> ≤ 16, W on the device as <paramref name="weights"/>
    /// describes it (its <see cref="MmaPackedWeights.Packed"/>, <see cref="MmaPackedWeights.Scales"/> and
    /// <see cref="MmaPackedWeights.Zeros"/>, or one word when symmetric). <paramref name="fragments"/> is scratch of
    /// <see cref="FragmentLength"/> words (0 where x is not converted first: M ≤ 8, and small or 8-bit weights).</summary>
    /// <exception cref="ArgumentException">The weights' scheme or K is not one <see cref="Supports"/> takes, or x, y or
    /// the fragment buffer is too short; the message says which.</exception>
    public void Run(MmaPackedWeights weights, ArrayView<uint> packed, ArrayView<uint> scales, ArrayView<uint> zeros, ArrayView<float> x, ArrayView<uint> fragments, ArrayView<float> y, int m)
    {
        ArgumentNullException.ThrowIfNull(weights);
        if (m < 1 || m > 16)
        {
            throw new ArgumentOutOfRangeException(nameof(m), m, "The packed tensor-core GEMV takes 1 to 16 activation rows; use the GEMM for more.");
        }

        bool perChannel = weights.GroupSize == weights.Cols;
        if (weights.Cols % 4 != 0 || !GroupsFit(perChannel, weights.GroupSize, weights.SlabCols))
        {
            throw new ArgumentException(FormattableString.Invariant(
                $"The tensor-core GEMV needs K to be a multiple of 4 and groups that span or divide a slab of {weights.SlabCols} columns; this weight has K = {weights.Cols} and groups of {weights.GroupSize}. Use the float32 GEMV (QuantLinear picks it when TensorCoreGemv.Supports is false)."), nameof(weights));
        }

        if (weights.Scales.LongLength / 4 > int.MaxValue)
        {
            throw new ArgumentException(FormattableString.Invariant(
                $"A [{weights.Rows} × {weights.Cols}] weight in groups of {weights.GroupSize} has more scale words than the tensor-core GEMV indexes with 32 bits; use the float32 GEMV (UseTensorCores = false)."), nameof(weights));
        }

        if (x.Length < (long)m * weights.Cols || y.Length < (long)m * weights.Rows)
        {
            throw new ArgumentException(FormattableString.Invariant(
                $"x holds {x.Length} and y {y.Length} values; M = {m} with a [{weights.Rows} × {weights.Cols}] weight needs {(long)m * weights.Cols} and {(long)m * weights.Rows}."));
        }

        bool prepared = PreparesX(weights, m);
        long fragmentLength = prepared ? PreparedLength(weights) : 0;
        if (fragments.Length < fragmentLength)
        {
            throw new ArgumentException(FormattableString.Invariant(
                $"The fragment buffer holds {fragments.Length} words; M = {m}, K = {weights.Cols} needs {fragmentLength} (TensorCoreGemv.FragmentLength)."), nameof(fragments));
        }

        var (slabsPerGroup, groupBlocks) = GroupForm(weights);
        var shape = new TensorCoreGemvShape(weights.Rows, weights.Cols, weights.Bits, weights.Tiles, weights.Slabs, weights.Groups, slabsPerGroup, weights.Symmetric ? 1 : 0, m);
        int rows = RowsFor(m), stagesNow = StagesOf(weights, m), warps = WarpsOf(weights, m);
        int registers = RegistersFor(weights.Bits, rows, prepared, stagesNow, BlocksOutnumberSms(weights), warps);
        var kernel = kernels.GetOrAdd((weights.Bits, groupBlocks, rows, stagesNow, prepared, registers, warps), static (key, self) => self.Load(key.Bits, key.GroupBlocks, key.Rows, key.Stages, key.Prepared, key.Registers, key.Warps), this);
        if (prepared)
        {
            // x as B fragments, one quad per k-block and lane: rows g and g + 8 (the GEMM's layout 1).
            int kBlocks = weights.Slabs * weights.BlocksPerSlab;
            prepare.Value(TensorCoreGemm.PrepareThreads(1, kBlocks), x, fragments, weights.Cols, m, kBlocks, 1);
        }

        kernel(new KernelConfig((weights.Tiles + TilesPerGroup - 1) / TilesPerGroup, warps * 32), packed, scales, zeros, x, fragments, y, shape);
    }

    /// <summary>
    /// Groups spanning whole slabs are closed after slabs (per-channel: one group, padding included, whose codes and x
    /// are zero); groups inside a slab at fixed k-blocks, with no branch. (Closing one-slab groups such as g128 at
    /// 4 bits the second way measured the same at M = 1 and needed 143 registers at M > 8: gemv.md, v9.) Returns the
    /// slabs per group (0 for groups inside a slab) and k-blocks per group inside a slab (0 for groups spanning slabs).
    /// </summary>
    private static (int SlabsPerGroup, int GroupBlocks) GroupForm(MmaPackedWeights weights)
    {
        bool perChannel = weights.GroupSize == weights.Cols;
        bool wide = perChannel || weights.GroupSize % weights.SlabCols == 0;
        return (perChannel ? weights.Slabs : wide ? weights.GroupSize / weights.SlabCols : 0, wide ? 0 : weights.GroupSize / 16);
    }

    /// <summary>Whether <see cref="Run"/> with <paramref name="m"/> rows applies the scales to each group's f32 sums
    /// (<see cref="IVariant.ScaleAfter"/>: weights exact) rather than rounding every scaled weight to f16.</summary>
    internal bool ScalesAfter(MmaPackedWeights weights, int m) => VariantOf(weights, m).ScaleAfter;

    /// <summary>Whether <see cref="Run"/> with <paramref name="m"/> rows decodes to 2^(10−s) + code and corrects each
    /// group's f32 sums (<see cref="IVariant.OffsetDecode"/>).</summary>
    internal bool DecodesWithOffsets(MmaPackedWeights weights, int m) => VariantOf(weights, m).OffsetDecode;

    /// <summary>The kernel variant <see cref="Run"/> takes for <paramref name="weights"/> at <paramref name="m"/> rows.</summary>
    private IVariant VariantOf(MmaPackedWeights weights, int m)
    {
        ArgumentNullException.ThrowIfNull(weights);
        int bits = weights.Bits, groupBlocks = GroupForm(weights).GroupBlocks;
        return (IVariant)Activator.CreateInstance(VariantType(bits, groupBlocks, RowsFor(m), StagesOf(weights, m), PreparesX(weights, m), WarpsOf(weights, m)))!;
    }

    /// <summary>The kernel variant's activation rows for <paramref name="m"/>: 1 (x through shared memory,
    /// <see cref="IVariant.SharedX"/>, unless <see cref="SharedX"/> is off), 8 or 16.</summary>
    private int RowsFor(int m) => m == 1 && SharedX && (accelerator.AcceleratorType != AcceleratorType.Cuda || PtxPeephole.Enabled) ? 1 : m > 8 ? 16 : 8;

    /// <summary>This instance's stages for <paramref name="weights"/> at <paramref name="m"/> rows: the constructor's,
    /// or <see cref="StagesFor"/>.</summary>
    private int StagesOf(MmaPackedWeights weights, int m)
        => stages >= 0 ? stages : StagesFor(weights.Bits, m > 8, BlocksOutnumberSms(weights));

    /// <summary>This instance's warps per group for <paramref name="weights"/> at <paramref name="m"/> rows: as
    /// <see cref="WarpsFor"/> says where <see cref="WideGroups"/> allows it, the accelerator's groups hold that many
    /// threads and (on CUDA) the kernel is loaded with its register cap (<see cref="PtxPeephole"/>); else
    /// <see cref="WarpsPerGroup"/>.</summary>
    internal int WarpsOf(MmaPackedWeights weights, int m)
    {
        int warps = WideGroups ? WarpsFor(weights.Bits, StagesOf(weights, m), BlocksOutnumberSms(weights)) : WarpsPerGroup;
        bool capped = accelerator.AcceleratorType != AcceleratorType.Cuda || PtxPeephole.Enabled;
        return warps * 32 <= accelerator.MaxNumThreadsPerGroup && capped ? warps : WarpsPerGroup;
    }

    /// <summary>
    /// Warps per group for a variant: <see cref="WideWarpsPerGroup"/> where the row blocks do not outnumber the SMs
    /// (at most 32 rows per SM, 4224 on an H100: one block of 8 warps per SM left half its warp slots empty), with the
    /// weights in registers and codes other than 3-bit (whose register variant wants more than the 128 registers a
    /// 512-thread group allows; the shared-memory ring of 2-bit M &gt; 8 needs 2 KiB per warp and stage more than static
    /// shared memory holds at 16 warps); <see cref="WarpsPerGroup"/> elsewhere. Each warp then takes half the slabs.
    /// </summary>
    internal static int WarpsFor(int bits, int stages, bool blocksOutnumberSms) => !blocksOutnumberSms && stages == 0 && bits != 3 ? WideWarpsPerGroup : WarpsPerGroup;

    /// <summary>Whether <paramref name="weights"/>' row blocks (one per <see cref="TilesPerGroup"/> tiles) outnumber this
    /// device's SMs, so that two blocks share an SM.</summary>
    private bool BlocksOutnumberSms(MmaPackedWeights weights) => (weights.Tiles + TilesPerGroup - 1) / TilesPerGroup > accelerator.NumMultiprocessors;

    /// <summary>Slabs in flight per warp for a variant, as measured on an H100 (gemv.md, v22, v25 and v34): through
    /// shared memory (2) for 2-bit codes at M &gt; 8 (14–20 % faster), and for 3-bit codes at every M where the row blocks
    /// outnumber the SMs (M = 1 12–15 % faster, M = 8 16–24 %, M = 16 13–15 %: the ring frees the registers the third
    /// bits held in flight, so two blocks share an SM under the 128-register cap without spills; 4096², one block per
    /// SM, was 5 % slower at M = 16); in registers (0) otherwise (2-bit M = 1: 5–7 % slower staged, also with x through
    /// shared memory; 4-bit M &gt; 8: level on large shapes, 3–5 % slower on small ones, also with
    /// <see cref="IVariant.ScaleAfter"/>; 8-bit M &gt; 8: 7–10 % slower).</summary>
    internal static int StagesFor(int bits, bool upper, bool blocksOutnumberSms) => (upper && bits == 2) || (bits == 3 && blocksOutnumberSms) ? 2 : 0;

    /// <summary>The kernel's variant type for <paramref name="bits"/>, k-blocks per group inside a slab (0: groups span
    /// slabs), activation rows (1, 8 or 16), stages, whether x comes as B fragments (rows 16 only) and warps per group
    /// (8 or 16).</summary>
    internal static Type VariantType(int bits, int groupBlocks, int rows, int stages, bool prepared, int warps)
        => typeof(Variant<,,,,,>).MakeGenericType(ConstantType(bits), ConstantType(groupBlocks), ConstantType(rows), ConstantType(stages), ConstantType(prepared ? 1 : 0), ConstantType(warps));

    /// <summary>The <see cref="IConstant"/> type of <paramref name="value"/> (0, 1, 2, 3, 4, 8, 16, or −1:
    /// <see cref="CRuntime"/>), for the kernels' specializations.</summary>
    internal static Type ConstantType(int value) => value switch
    {
        0 => typeof(C0),
        1 => typeof(C1),
        2 => typeof(C2),
        3 => typeof(C3),
        4 => typeof(C4),
        8 => typeof(C8),
        16 => typeof(C16),
        -1 => typeof(CRuntime),
        _ => throw new ArgumentOutOfRangeException(nameof(value), value, "No kernel is specialized for this constant."),
    };

    private Action<KernelConfig, ArrayView<uint>, ArrayView<uint>, ArrayView<uint>, ArrayView<float>, ArrayView<uint>, ArrayView<float>, TensorCoreGemvShape> Load(int bits, int groupBlocks, int rows, int stages, bool prepared, int registers, int warps)
    {
        bool cuda = accelerator.AcceleratorType == AcceleratorType.Cuda;
        var method = typeof(TensorCoreGemv).GetMethod(nameof(GemvKernel), System.Reflection.BindingFlags.NonPublic | System.Reflection.BindingFlags.Static)!
            .MakeGenericMethod(cuda ? typeof(TensorCoreMma.PtxMma) : typeof(TensorCoreMma.EmulatedMma), VariantType(bits, groupBlocks, rows, stages, prepared, warps));

        // CUDA: ILGPU's PTX with the local-memory round trips of the asm outputs forwarded (PtxPeephole), unless
        // disabled or this ILGPU does not allow it; elsewhere the shuffle emulation.
        // The kernel takes the weights' device address for ld.global.nc (the emulation reads the view).
        if (cuda && prepared && DependentLaunch.Supported(accelerator))
        {
            // Behind x's conversion, started while that still runs (it waits for x in griddepcontrol.wait).
            var dependent = PtxPeephole.LoadPatchedKernel(accelerator, method, registers)!;
            return (config, packed, scales, zeros, x, fragments, y, shape) => LaunchDependent(dependent, accelerator.DefaultStream, config, packed, scales, zeros, x, fragments, y, shape);
        }

        var patched = cuda && PtxPeephole.Enabled
            ? PtxPeephole.LoadPatched<Action<AcceleratorStream, KernelConfig, ArrayView<uint>, ArrayView<uint>, ArrayView<uint>, ArrayView<float>, ArrayView<uint>, ArrayView<float>, TensorCoreGemvShape, ulong>>(accelerator, method, registers)
            : null;
        if (patched is not null)
        {
            return (config, packed, scales, zeros, x, fragments, y, shape) => patched(accelerator.DefaultStream, config, packed, scales, zeros, x, fragments, y, shape, Address(packed));
        }

        var launcher = accelerator.LoadStreamKernel(method.CreateDelegate<Action<ArrayView<uint>, ArrayView<uint>, ArrayView<uint>, ArrayView<float>, ArrayView<uint>, ArrayView<float>, TensorCoreGemvShape, ulong>>());
        return (config, packed, scales, zeros, x, fragments, y, shape) => launcher(config, packed, scales, zeros, x, fragments, y, shape, cuda ? Address(packed) : 0UL);
    }

    /// <summary>Launches the GEMV through <see cref="DependentLaunch"/>, its parameters laid out as in its PTX entry
    /// (six views, the shape's nine ints, the weights' address).</summary>
    private static void LaunchDependent(CudaKernel kernel, AcceleratorStream stream, KernelConfig config, ArrayView<uint> packed, ArrayView<uint> scales, ArrayView<uint> zeros, ArrayView<float> x, ArrayView<uint> fragments, ArrayView<float> y, TensorCoreGemvShape shape)
        => DependentLaunch.Launch(kernel, stream, config, [DependentLaunch.View.Of(packed), DependentLaunch.View.Of(scales), DependentLaunch.View.Of(zeros), DependentLaunch.View.Of(x), DependentLaunch.View.Of(fragments), DependentLaunch.View.Of(y)], shape, Address(packed));

    /// <summary>A device view's address, for the kernels' inline PTX (loads, cp.async).</summary>
    internal static ulong Address(ArrayView<uint> view) => (ulong)view.LoadEffectiveAddressAsPtr().ToInt64();

    /// <summary>A compile-time integer (ILGPU specializes generic kernels per type, so these fold to constants).</summary>
    internal interface IConstant
    {
        int Value { get; }
    }

    internal readonly struct C0 : IConstant
    {
        public int Value => 0;
    }

    internal readonly struct C1 : IConstant
    {
        public int Value => 1;
    }

    internal readonly struct C2 : IConstant
    {
        public int Value => 2;
    }

    internal readonly struct C3 : IConstant
    {
        public int Value => 3;
    }

    internal readonly struct C4 : IConstant
    {
        public int Value => 4;
    }

    internal readonly struct C8 : IConstant
    {
        public int Value => 8;
    }

    internal readonly struct C16 : IConstant
    {
        public int Value => 16;
    }

    /// <summary>"Known only at run time": the kernel reads the value from its arguments.</summary>
    internal readonly struct CRuntime : IConstant
    {
        public int Value => -1;
    }

    /// <summary>What a kernel is specialized for: the code width (so the word walk is constant), the k-blocks per
    /// group when groups lie inside a slab (0 when they span slabs), and whether activation rows 8–15 exist (so M ≤ 8
    /// carries no second set of accumulators).</summary>
    internal interface IVariant
    {
        int Bits { get; }

        /// <summary>The code width the words' geometry follows (<see cref="MmaPackedWeights.WordBits"/>: 2 for 3-bit
        /// codes, whose third bits come as one 8-byte load per tile and slab besides).</summary>
        int Width { get; }

        int GroupBlocks { get; }

        bool Upper { get; }

        /// <summary>Whether the weights are read with <see cref="TensorCoreMma.IMma.LoadStreaming"/> (ld.global.nc,
        /// not through L1) instead of ILGPU's generic loads: measured per variant on an H100 (gemv.md, v16): 4-bit 1–7 %
        /// faster, 8-bit 9 % faster at M &gt; 8 and 5 % slower at M ≤ 8, 2-bit 3–5 % slower (again in session 15 at M = 1, with
        /// 3-bit level within 1.5 %; <see cref="StreamingLoads"/> overrides).</summary>
        bool Streaming { get; }

        /// <summary>Slabs in flight per warp through <c>cp.async</c> and shared memory; 0: loaded into registers.</summary>
        int Stages { get; }

        /// <summary>Quads of shared memory per warp and stage: a lane's quad of each of 4 tiles (128), and for 3-bit
        /// codes their third bits' duos (64 more).</summary>
        int StageQuads { get; }

        /// <summary>Quads of shared memory per warp for x after the rings where <see cref="SharedX"/> (128), else none.</summary>
        int XQuads { get; }

        /// <summary>Whether the weights are decoded to code − zero only and each group's mma sums are multiplied by its
        /// scales in f32 when the group closes (<see cref="State.Flush"/>), instead of every weight by its scale in f16
        /// (4 <c>mul.f16x2</c> per A and k-block). Measured on an H100 (gemv.md, v23): 4-bit g128 at M = 1 7–9 % faster,
        /// 2-bit g64 (groups inside a slab: a flush every 4 k-blocks) 1–11 % slower. So: groups spanning whole slabs, at
        /// M ≤ 8, and at M &gt; 8 where x in flight takes fewer registers (<see cref="PreparedX"/>: v29) or the weights do
        /// (<see cref="Stages"/>); the M &gt; 8 kernel with x in f32 has no registers left for the group sums. Groups
        /// inside a slab (v33, both forms in one call each): at M = 1 (<see cref="SharedX"/>) 3-bit g128 4–7 % faster,
        /// 3-bit g32 6–8 % and 4-bit g32 9–12 % (a flush every 8 or 2 k-blocks), so 3- and 4-bit codes scale after there;
        /// 2-bit g64 at M = 1 −2 to +4 % and 2- or 3-bit at M = 8 or 16 2–27 % slower, so those do not (8-bit groups inside
        /// a slab were not measured; <see cref="ScaleAfterInside"/> forces it everywhere, for comparisons).</summary>
        bool ScaleAfter { get; }

        /// <summary>M = 1 only (weights in registers, or through the ring with x's slots after it in the same
        /// allocation, v34): each warp stages x for two slabs at a time in shared memory as f16,
        /// laid out so that one <c>ld.shared.v4</c> gives a lane the B registers of two k-blocks. Replaces, per slab of
        /// 4-bit codes, 8 bounds-tested 16-byte global loads and 16 conversions per lane with 4 shared loads; a turn of two
        /// slabs costs each lane 8/b global loads, their conversions and stores, and one warp barrier.</summary>
        bool SharedX { get; }

        /// <summary>
        /// M = 1 (<see cref="SharedX"/>) with codes of at most <see cref="OffsetBits"/> bits (2-bit): A is
        /// 2^(10−s) + code, the <c>lop3</c> of the decode alone (<see cref="TensorCoreMma.IMma.DecodeOffset"/>), instead
        /// of that plus an <c>fma.f16x2</c> to code − zero and a <c>mul.f16x2</c> by the scale. The words are shifted so
        /// that every pair sits at bit s = 4 or 6 of its byte (<see cref="PairDecode.Positions"/>, lifted): offsets of 64
        /// and 16, not up to 1024, for the f32 sums to carry. Each group's sums are then Σ (2^(10−s) + code)·x, and the
        /// flush (<see cref="State.Flush"/>) subtracts S + zero·X, where S = Σ 2^(10−s)·x and X = Σ x over the group's k: a
        /// third mma per k-block computes both, with a constant A whose row 0 holds the offsets and row 1 ones, into rows
        /// 0 and 1 of its D (lanes 0 and 4), which two shuffles hand to every lane. Implies <see cref="ScaleAfter"/>; the
        /// weights are exact. Measured on an H100 (gemv.md, v36): 2-bit g64 3–6 % faster on the large shapes, level on
        /// 4096² and 8192²; 3- and 4-bit, which already scaled after and so lose one <c>fma.f16x2</c> per pair, not the
        /// third mma, the shifts and the flush it costs, 4–15 % slower.
        /// </summary>
        bool OffsetDecode { get; }

        /// <summary>Warps per group (<see cref="WarpsFor"/>): 8 or 16.</summary>
        int Warps { get; }

        /// <summary>M &gt; 8 only: x comes as B fragments in f16 (<see cref="TensorCoreGemm.PrepareKernel"/>'s layout 1),
        /// one 16-byte load per k-block and lane for both row halves, instead of two float4 loads (bounds-tested) and four
        /// conversions.</summary>
        bool PreparedX { get; }
    }

    /// <summary><see cref="IVariant"/> from six constants (rows: 1, 8 or 16; prepared: 0 or 1; warps: 8 or 16).</summary>
    internal readonly struct Variant<TBits, TGroup, TRows, TStages, TPrepared, TWarps> : IVariant
        where TBits : struct, IConstant
        where TGroup : struct, IConstant
        where TRows : struct, IConstant
        where TStages : struct, IConstant
        where TPrepared : struct, IConstant
        where TWarps : struct, IConstant
    {
        public int Warps => default(TWarps).Value;

        public bool PreparedX => Upper && default(TPrepared).Value == 1;

        public int Stages => default(TStages).Value;

        public int StageQuads => 128 + (64 * (default(TBits).Value & 1)); // odd widths: 3 (no branch, so that the allocation size folds in the tests' debug builds)

        public int XQuads => 128 * (1 / default(TRows).Value); // M = 1: a warp's two x slots (as above, no branch)

        public int Bits => default(TBits).Value;

        public int Width => MmaPackedWeights.WordBitsOf(Bits);

        public int GroupBlocks => default(TGroup).Value;

        public bool Upper => default(TRows).Value > 8;

        public bool SharedX => default(TRows).Value == 1;

        public bool Streaming => StreamingLoads >= 0 ? StreamingLoads == 1 : Bits == 4 || (Bits == 8 && Upper);

        public bool ScaleAfter => (OffsetDecode || GroupBlocks == 0 || ScaleAfterInside || (SharedX && Bits is 3 or 4)) && (!Upper || Stages > 0 || PreparedX);

        public bool OffsetDecode => SharedX && Bits <= OffsetBits;
    }

    /// <summary>16 bytes: one lane's words of one tile and slab.</summary>
    internal struct Quad
    {
        public uint X;
        public uint Y;
        public uint Z;
        public uint W;
    }

    /// <summary>Four consecutive floats (one 16-byte load): a lane's activations of one k-block.</summary>
    internal struct Float4
    {
        public float A;
        public float B;
        public float C;
        public float D;
    }

    /// <summary>
    /// One warp: 4 tiles (32 weight rows) as two 16-row A operands, over its share of the slabs. Weights are A (rows g
    /// and g + 8 of each A are tile rows g of two tiles), x is B (column g = activation row g, and g + 8 with
    /// <see cref="IVariant.Upper"/>), so one mma covers 256 weights and M ≤ 8 costs what M = 1 does. The word walk is
    /// written out (ILGPU does not unroll loops): per k-block and A, four mask-and-or decodes to 1024 + code·2^s, four
    /// <c>fma.f16x2</c> to code − zero and four <c>mul.f16x2</c> by the scale, then one mma.
    /// </summary>
    internal static void GemvKernel<TMma, TVariant>(ArrayView<uint> packed, ArrayView<uint> scales, ArrayView<uint> zeros, ArrayView<float> x, ArrayView<uint> fragments, ArrayView<float> y, TensorCoreGemvShape s, ulong packedAddress)
        where TMma : struct, TensorCoreMma.IMma
        where TVariant : struct, IVariant
    {
        var operands = default(TMma).AllocateOperands(); // first, by every thread: the emulated mma's exchange
        if (default(TVariant).PreparedX)
        {
            default(TMma).WaitForPrimary(); // x's conversion, launched just before (programmatic dependent launch)
        }

        int groupBlocks = default(TVariant).GroupBlocks;
        bool upper = default(TVariant).Upper;
        int lane = Warp.LaneIdx, g = lane >> 2, t = lane & 3, warp = Warp.WarpIdx;
        int tile0 = Grid.IdxX * TilesPerGroup;

        // Tiles come in whole blocks of 4 (padding rows hold zero codes; their sums are never stored): tile0 … tile0 + 3.
        int warps = default(TVariant).Warps;
        int perWarp = (s.Slabs + warps - 1) / warps;
        int slabStart = Math.Min(s.Slabs, warp * perWarp), slabEnd = Math.Min(s.Slabs, slabStart + perWarp);
        int blocksPerSlab = MmaPackedWeights.BlocksPerSlabOf(default(TVariant).Bits);

        var st = default(State);
        st.Operands = operands;
        st.Init(s, g, Grid.IdxX);

        // Groups: the one this warp's first slab opens (and, when groups span slabs, how many of its slabs are left).
        int kb = slabStart * blocksPerSlab, firstGroup;
        if (groupBlocks == 0)
        {
            firstGroup = slabStart / s.SlabsPerGroup;
            st.Left = s.SlabsPerGroup - (slabStart % s.SlabsPerGroup);
        }
        else
        {
            firstGroup = kb / Math.Max(groupBlocks, 1); // ILGPU folds constants on both branches
        }

        // A warp with no slabs starts past the end; clamped, so that its loads stay inside the arrays (which hold two
        // spare groups).
        st.StartGroups(Math.Min(firstGroup, s.Groups - 1), s);
        st.PrefetchGroup(scales, zeros);
        st.TakeGroup<TMma, TVariant>();
        st.PrefetchGroup(scales, zeros);

        // With stages, one shared allocation holds the warps' rings and, at M = 1, their x slots after them.
        var ring = default(ArrayView<Quad>);
        if (default(TVariant).Stages > 0)
        {
            ring = SharedMemory.Allocate<Quad>(default(TVariant).Warps * ((default(TVariant).StageQuads * default(TVariant).Stages) + default(TVariant).XQuads));
        }

        var quads4 = x.Cast<Float4>();
        var xq = fragments.Cast<Quad>();
        var xStage = default(ArrayView<Quad>);
        if (default(TVariant).SharedX)
        {
            // x through shared memory (M = 1): this warp's 2 KiB of the block's buffer (which holds its partial sums at
            // the end) as two slots of two slabs' x in f16. Lane l loads float4s l, l + 32, … of a turn's columns and
            // stores each as 4 halves at 64·(l >> 3) + 16·(l & 3) + 8·((l >> 2) & 1) + 256·i (k-block pair, lane t,
            // the pair's half); lane t reads k-block pair p at 64·p + 16·t: its B registers of both k-blocks.
            int slots = 0;
            if (default(TVariant).Stages > 0)
            {
                xStage = ring;
                slots = 16 * warps * default(TVariant).StageQuads * default(TVariant).Stages;
            }
            else
            {
                xStage = SharedMemory.Allocate<Quad>(default(TVariant).Warps * 128);
            }

            st.XBase = default(TMma).SharedBase() + (uint)(slots + (warp * 2048));
            st.XStore = (uint)((64 * (lane >> 3)) + (16 * t) + (8 * ((lane >> 2) & 1)));
            st.XRead = (uint)(16 * t);
            st.XLow = (kb * 4) + lane;
            st.K = (kb * 16) + (4 * lane);
            st.FetchX<TVariant>(quads4, s);
        }
        else if (default(TVariant).PreparedX)
        {
            // x as B fragments (Run's first launch): this lane's quad of each k-block (rows g and g + 8), one word ahead;
            // k runs on across slabs, and past the last k-block into the buffer's spare ones.
            st.XQuad = (kb * 32) + lane;
            st.LoadX<TVariant>(quads4, xq, s);
        }
        else
        {
            // x: this lane's columns 4t … 4t+3 of each k-block (activation rows g, and g + 8), one word ahead; k runs on
            // across slabs. Lanes of rows ≥ M read row M − 1 instead: they only feed D's columns ≥ M, which are never
            // stored, so no lane branches.
            st.XLow = ((long)Math.Min(g, s.M - 1) * s.Cols / 4) + (kb * 4) + t;
            st.XHigh = ((long)Math.Min(g + 8, s.M - 1) * s.Cols / 4) + (kb * 4) + t;
            st.K = (kb * 16) + (4 * t);
            st.LoadX<TVariant>(quads4, xq, s);
        }

        // Weights: one 16-byte load per tile and slab, the next slab's while this one is computed.
        if (default(TVariant).Stages > 0)
        {
            // Through shared memory: each lane copies its quad of each tile with cp.async into this warp's ring of
            // Stages slabs (tile j of stage i at quad StageQuads·i + 32·j + lane, conflict-free), Stages − 1 slabs ahead, and
            // reads back only its own quads, so no barrier is needed. The weights in flight take no registers. 3-bit
            // codes' third bits (a duo per lane, tile and slab) follow each stage's quads: 64 quads more per stage, tile
            // j's duos at 32·j + lane from there.
            int stageCount = default(TVariant).Stages;
            bool third = default(TVariant).Bits == 3;
            int perStage = default(TVariant).StageQuads;
            var highRing = ring.Cast<TensorCoreGemm.Duo>();
            var mma = default(TMma);
            uint sharedBase = mma.SharedBase();
            long first = ((long)tile0 * s.Slabs * 32) + ((long)slabStart * 32) + lane;
            var tiles = packed.Cast<Quad>().SubView(first);
            ulong tilesAddress = packedAddress + ((ulong)first * 16);
            long highFirst = third ? MmaPackedWeights.HighPlanePairs(s.Tiles, s.Slabs) + first : 0;
            var highs = third ? packed.Cast<TensorCoreGemm.Duo>().SubView(highFirst) : default;
            ulong highsAddress = packedAddress + ((ulong)highFirst * 8);
            int step = s.Slabs * 32, own = (warp * stageCount * perStage) + lane, highOwn = (2 * ((warp * stageCount * perStage) + 128)) + lane;
            for (int ahead = 0; ahead < stageCount - 1; ahead++)
            {
                if (slabStart + ahead < slabEnd)
                {
                    Fetch(mma, tiles, tilesAddress, 32 * ahead, step, ring, own + (perStage * ahead), sharedBase);
                    if (third)
                    {
                        FetchHighs(mma, highs, highsAddress, 32 * ahead, step, highRing, highOwn + (2 * perStage * ahead), sharedBase);
                    }
                }

                mma.CommitCopies();
            }

            int read = 0, fill = stageCount - 1;
            for (int slab = slabStart; slab < slabEnd; slab++)
            {
                if (default(TVariant).SharedX && ((slab - slabStart) & 1) == 0)
                {
                    st.StageX<TMma, TVariant>(xStage, quads4, s); // x of this slab and the next, as the register loop's turns
                }

                if (slab + stageCount - 1 < slabEnd)
                {
                    int at0 = 32 * (slab - slabStart + stageCount - 1);
                    Fetch(mma, tiles, tilesAddress, at0, step, ring, own + (perStage * fill), sharedBase);
                    if (third)
                    {
                        FetchHighs(mma, highs, highsAddress, at0, step, highRing, highOwn + (2 * perStage * fill), sharedBase);
                    }
                }

                mma.CommitCopies();
                mma.WaitCopies(stageCount - 1);
                int at = own + (perStage * read);
                TensorCoreGemm.Duo ha = default, hb = default, hc = default, hd = default;
                if (third)
                {
                    LoadHighs(highRing, highOwn + (2 * perStage * read), 32, out ha, out hb, out hc, out hd);
                }

                st.Slab<TMma, TVariant>(quads4, xq, xStage, scales, zeros, s, ring[at], ring[at + 32], ring[at + 64], ring[at + 96], ha, hb, hc, hd);
                read = read + 1 == stageCount ? 0 : read + 1;
                fill = fill + 1 == stageCount ? 0 : fill + 1;
            }

            // The ring (16 KiB per stage) holds the warps' 16 KiB of partial sums next.
            mma.WaitCopies(0);
            Group.Barrier();
            st.Flush<TMma, TVariant>(); // the last (possibly partial) group
            Reduce<TVariant>(ring.Cast<float>(), y, s, tile0, lane, warp, g, t, st);
            return;
        }

        if (!upper)
        {
            // M ≤ 8: two slabs per turn with two sets of quads, so no quad is copied across the loop's back edge (the
            // single-slab loop's phi copies were ~35 moves per slab in the SASS; 3-6 % faster at M = 1; gemv.md, v14).
            long first = ((long)tile0 * s.Slabs * 32) + ((long)slabStart * 32) + lane;
            var tiles = packed.Cast<Quad>().SubView(first);
            ulong tilesAddress = packedAddress + ((ulong)first * 16);
            int step = s.Slabs * 32, next = 0;
            Quad pa = default, pb = default, pc = default, pd = default, qa = default, qb = default, qc = default, qd = default;

            // 3-bit codes: the third bits, one 8-byte load per tile and slab at the same index in their plane.
            bool third = default(TVariant).Bits == 3;
            var highs = third ? packed.Cast<TensorCoreGemm.Duo>().SubView(MmaPackedWeights.HighPlanePairs(s.Tiles, s.Slabs) + first) : default;
            TensorCoreGemm.Duo hpa = default, hpb = default, hpc = default, hpd = default, hqa = default, hqb = default, hqc = default, hqd = default;
            if (slabStart < slabEnd)
            {
                LoadTiles<TMma, TVariant>(tiles, tilesAddress, next, step, out pa, out pb, out pc, out pd);
                if (third)
                {
                    LoadHighs(highs, next, step, out hpa, out hpb, out hpc, out hpd);
                }
            }

            for (int slab = slabStart; slab < slabEnd; slab += 2)
            {
                if (default(TVariant).SharedX)
                {
                    st.StageX<TMma, TVariant>(xStage, quads4, s);
                }

                // 4-bit batches load both sets whether or not their slab exists (the weights where it does not by a
                // predicated load): behind a branch a set's previous registers stay alive around the loop, and ptxas
                // copies them every turn. M = 8 ran 6–9 % faster so on an H200, but 4-bit and 2-bit decode (M = 1) 3–10 %
                // slower and 3-bit level, which keep the branches (gemv.md, session 31).
                bool unbranched = default(TVariant).Bits == 4 && !default(TVariant).SharedX;
                bool second = slab + 1 < slabEnd, thirdSlab = slab + 2 < slabEnd;
                if (unbranched || second)
                {
                    LoadSet<TMma, TVariant>(tiles, tilesAddress, highs, unbranched && !second ? next : next + 32, step, second, unbranched, out qa, out qb, out qc, out qd, out hqa, out hqb, out hqc, out hqd);
                }

                st.Slab<TMma, TVariant>(quads4, xq, xStage, scales, zeros, s, pa, pb, pc, pd, hpa, hpb, hpc, hpd);
                if (!second)
                {
                    break;
                }

                if (unbranched || thirdSlab)
                {
                    LoadSet<TMma, TVariant>(tiles, tilesAddress, highs, unbranched && !thirdSlab ? next + 32 : next + 64, step, thirdSlab, unbranched, out pa, out pb, out pc, out pd, out hpa, out hpb, out hpc, out hpd);
                }

                st.Slab<TMma, TVariant>(quads4, xq, xStage, scales, zeros, s, qa, qb, qc, qd, hqa, hqb, hqc, hqd);
                next += 64;
            }
        }
        else
        {
            // M > 8: one slab per turn (the two-slab loop spilled 240-336 bytes under the register cap with the second
            // set of accumulators and was 3-17 % slower).
            var quads = packed.Cast<Quad>();
            long step = (long)s.Slabs * 32, offset = ((long)slabStart * 32) + lane;
            long ia = ((long)tile0 * step) + offset, ib = ((long)(tile0 + 1) * step) + offset, ic = ((long)(tile0 + 2) * step) + offset, id = ((long)(tile0 + 3) * step) + offset;
            Quad na = default, nb = default, nc = default, nd = default;
            bool third = default(TVariant).Bits == 3;
            var highs = third ? packed.Cast<TensorCoreGemm.Duo>().SubView(MmaPackedWeights.HighPlanePairs(s.Tiles, s.Slabs)) : default;
            TensorCoreGemm.Duo ha = default, hb = default, hc = default, hd = default;
            if (slabStart < slabEnd)
            {
                na = Load<TMma, TVariant>(quads, ia, packedAddress);
                nb = Load<TMma, TVariant>(quads, ib, packedAddress);
                nc = Load<TMma, TVariant>(quads, ic, packedAddress);
                nd = Load<TMma, TVariant>(quads, id, packedAddress);
                if (third)
                {
                    (ha, hb, hc, hd) = (highs[ia], highs[ib], highs[ic], highs[id]);
                }
            }

            for (int slab = slabStart; slab < slabEnd; slab++)
            {
                Quad ca = na, cb = nb, cc = nc, cd = nd;
                var (ga, gb, gc, gd) = (ha, hb, hc, hd);
                if (slab + 1 < slabEnd)
                {
                    ia += 32;
                    ib += 32;
                    ic += 32;
                    id += 32;
                    na = Load<TMma, TVariant>(quads, ia, packedAddress);
                    nb = Load<TMma, TVariant>(quads, ib, packedAddress);
                    nc = Load<TMma, TVariant>(quads, ic, packedAddress);
                    nd = Load<TMma, TVariant>(quads, id, packedAddress);
                    if (third)
                    {
                        (ha, hb, hc, hd) = (highs[ia], highs[ib], highs[ic], highs[id]);
                    }
                }

                st.Slab<TMma, TVariant>(quads4, xq, xStage, scales, zeros, s, ca, cb, cc, cd, ga, gb, gc, gd);
            }
        }

        st.Flush<TMma, TVariant>(); // the last (possibly partial) group
        if (default(TVariant).SharedX)
        {
            // Each warp's partial sums overwrite its own x slots, once all its lanes have read them.
            Warp.Barrier();
            Reduce<TVariant>(xStage.Cast<float>(), y, s, tile0, lane, warp, g, t, st);
            return;
        }

        Reduce<TVariant>(SharedMemory.Allocate<float>(default(TVariant).Warps * 32 * 16), y, s, tile0, lane, warp, g, t, st);
    }

    /// <summary>Sums the warps' partial results in <paramref name="partial"/> (shared, 16 values per lane: tiles a–d at
    /// activation rows 2t, 2t+1, then + 8; value i of lane l of warp w at (16·w + i)·32 + l) and stores y.</summary>
    private static void Reduce<TVariant>(ArrayView<float> partial, ArrayView<float> y, TensorCoreGemvShape s, int tile0, int lane, int warp, int g, int t, State st)
        where TVariant : struct, IVariant
    {
        bool upper = default(TVariant).Upper;
        int at = (warp * 16 * 32) + lane; // value i of this lane at at + 32·i: no bank conflicts
        Share(partial, at, st.P0, st.Q0, st.P1, st.Q1);
        if (upper)
        {
            Share(partial, at + 256, st.Pu0, st.Qu0, st.Pu1, st.Qu1);
        }

        Group.Barrier();

        // Warp w sums and stores tile w % 4, row g, at activation rows 2t, 2t+1 (w < 4) or 8 + 2t, 9 + 2t (4 ≤ w < 8);
        // warps 8–15 of a wide group store nothing (their m0 is 16 or more).
        int tile = warp & 3, half = warp >> 2;
        int m0 = (2 * t) + (8 * half), row = ((tile0 + tile) * MmaPackedWeights.TileRows) + g;
        if (m0 < s.M && row < s.Rows)
        {
            float c0 = 0, c1 = 0;
            for (int w = 0; w < default(TVariant).Warps; w++)
            {
                int from = (((w * 16) + (half * 8) + (tile * 2)) * 32) + lane;
                c0 += partial[from];
                c1 += partial[from + 32];
            }

            y[((long)m0 * s.Rows) + row] = c0;
            if (m0 + 1 < s.M)
            {
                y[((long)(m0 + 1) * s.Rows) + row] = c1;
            }
        }
    }

    /// <summary>cp.async of tile a's quad at <paramref name="at"/> and tiles b–d's, <paramref name="step"/> quads apart, to
    /// quads <paramref name="to"/>, + 32, + 64, + 96 of <paramref name="ring"/> (shared memory at
    /// <paramref name="sharedBase"/>).</summary>
    private static void Fetch<TMma>(TMma mma, ArrayView<Quad> tiles, ulong address, int at, int step, ArrayView<Quad> ring, int to, uint sharedBase)
        where TMma : struct, TensorCoreMma.IMma
    {
        mma.CopyAsync(ring, to, sharedBase, tiles, at, address);
        mma.CopyAsync(ring, to + 32, sharedBase, tiles, at + step, address);
        mma.CopyAsync(ring, to + 64, sharedBase, tiles, at + (2 * step), address);
        mma.CopyAsync(ring, to + 96, sharedBase, tiles, at + (3 * step), address);
    }

    /// <summary>cp.async of 3-bit codes' third bits: tile a's duo at <paramref name="at"/> and tiles b–d's,
    /// <paramref name="step"/> apart, to duos <paramref name="to"/>, + 32, + 64, + 96 of <paramref name="ring"/>.</summary>
    private static void FetchHighs<TMma>(TMma mma, ArrayView<TensorCoreGemm.Duo> highs, ulong address, int at, int step, ArrayView<TensorCoreGemm.Duo> ring, int to, uint sharedBase)
        where TMma : struct, TensorCoreMma.IMma
    {
        mma.CopyAsync8(ring, to, sharedBase, highs, at, address);
        mma.CopyAsync8(ring, to + 32, sharedBase, highs, at + step, address);
        mma.CopyAsync8(ring, to + 64, sharedBase, highs, at + (2 * step), address);
        mma.CopyAsync8(ring, to + 96, sharedBase, highs, at + (3 * step), address);
    }

    /// <summary>Tile a's quad at <paramref name="at"/> and tiles b–d's, <paramref name="step"/> quads apart
    /// (<paramref name="address"/>: the device address of <paramref name="tiles"/>).</summary>
    private static void LoadTiles<TMma, TVariant>(ArrayView<Quad> tiles, ulong address, int at, int step, out Quad a, out Quad b, out Quad c, out Quad d)
        where TMma : struct, TensorCoreMma.IMma
        where TVariant : struct, IVariant
    {
        a = Load<TMma, TVariant>(tiles, at, address);
        b = Load<TMma, TVariant>(tiles, at + step, address);
        c = Load<TMma, TVariant>(tiles, at + (2 * step), address);
        d = Load<TMma, TVariant>(tiles, at + (3 * step), address);
    }

    /// <summary>One register set of the M ≤ 8 loop: the four tiles' quads at <paramref name="at"/> (and 3-bit codes' third
    /// bits). Where <paramref name="predicated"/> (a constant), the quads are read only where <paramref name="load"/>
    /// (streaming loads predicated off leave their registers undefined; others read the valid quads at
    /// <paramref name="at"/>, never used); otherwise the caller has branched on it.</summary>
    private static void LoadSet<TMma, TVariant>(ArrayView<Quad> tiles, ulong address, ArrayView<TensorCoreGemm.Duo> highs, int at, int step, bool load, bool predicated, out Quad a, out Quad b, out Quad c, out Quad d, out TensorCoreGemm.Duo ha, out TensorCoreGemm.Duo hb, out TensorCoreGemm.Duo hc, out TensorCoreGemm.Duo hd)
        where TMma : struct, TensorCoreMma.IMma
        where TVariant : struct, IVariant
    {
        if (predicated)
        {
            a = LoadIf<TMma, TVariant>(tiles, at, address, load);
            b = LoadIf<TMma, TVariant>(tiles, at + step, address, load);
            c = LoadIf<TMma, TVariant>(tiles, at + (2 * step), address, load);
            d = LoadIf<TMma, TVariant>(tiles, at + (3 * step), address, load);
        }
        else
        {
            LoadTiles<TMma, TVariant>(tiles, address, at, step, out a, out b, out c, out d);
        }

        ha = hb = hc = hd = default;
        if (default(TVariant).Bits == 3)
        {
            LoadHighs(highs, at, step, out ha, out hb, out hc, out hd);
        }
    }

    /// <summary>3-bit codes' third bits of tile a at <paramref name="at"/> of <paramref name="highs"/> and of tiles b–d,
    /// <paramref name="step"/> apart (the indices of their quads in the low plane).</summary>
    internal static void LoadHighs(ArrayView<TensorCoreGemm.Duo> highs, int at, int step, out TensorCoreGemm.Duo a, out TensorCoreGemm.Duo b, out TensorCoreGemm.Duo c, out TensorCoreGemm.Duo d)
    {
        a = highs[at];
        b = highs[at + step];
        c = highs[at + (2 * step)];
        d = highs[at + (3 * step)];
    }

    /// <summary>Quad <paramref name="index"/> of <paramref name="quads"/> (device address <paramref name="address"/>),
    /// loaded as <see cref="IVariant.Streaming"/> says.</summary>
    private static Quad Load<TMma, TVariant>(ArrayView<Quad> quads, long index, ulong address)
        where TMma : struct, TensorCoreMma.IMma
        where TVariant : struct, IVariant
        => default(TVariant).Streaming ? default(TMma).LoadStreaming(quads, index, address) : quads[index];

    /// <summary><see cref="Load"/> where <paramref name="load"/> (streaming: a predicated load, undefined otherwise).</summary>
    private static Quad LoadIf<TMma, TVariant>(ArrayView<Quad> quads, long index, ulong address, bool load)
        where TMma : struct, TensorCoreMma.IMma
        where TVariant : struct, IVariant
        => default(TVariant).Streaming ? default(TMma).LoadStreamingIf(quads, index, address, load) : quads[index];

    /// <summary>One activation-row half of a lane's results into the warps' partial sums, 32 apart from
    /// <paramref name="at"/>: tiles a–d (D of A ab: p rows g of tile a, q of tile b; of cd: tiles c, d), activation
    /// rows 2t and 2t + 1 each.</summary>
    private static void Share(ArrayView<float> partial, int at, ulong p0, ulong q0, ulong p1, ulong q1)
    {
        partial[at] = Interop.IntAsFloat((uint)p0);
        partial[at + 32] = Interop.IntAsFloat((uint)(p0 >> 32));
        partial[at + 64] = Interop.IntAsFloat((uint)q0);
        partial[at + 96] = Interop.IntAsFloat((uint)(q0 >> 32));
        partial[at + 128] = Interop.IntAsFloat((uint)p1);
        partial[at + 160] = Interop.IntAsFloat((uint)(p1 >> 32));
        partial[at + 192] = Interop.IntAsFloat((uint)q1);
        partial[at + 224] = Interop.IntAsFloat((uint)(q1 >> 32));
    }

    /// <summary>
    /// A warp's running state, in registers: the mma sums (D of A·B for each 16-row A, packed pairs: p rows g of the
    /// first tile, q of the second), the open group's decode constants and the next group's raw words, and x one word
    /// ahead.
    /// </summary>
    private struct State
    {
        // The mma sums over all of K (the results): A0 = tiles a, b; A1 = tiles c, d; U: activation rows 8–15.
        public ulong P0, Q0, P1, Q1, Pu0, Qu0, Pu1, Qu1;

        // With IVariant.ScaleAfter: the open group's sums of (code − zero)·x, added to P0…Q1 times the scales by Flush.
        public ulong G0, H0, G1, H1, Gu0, Hu0, Gu1, Hu1;

        // With IVariant.OffsetDecode: the open group's S and X (rows 0 and 1 of D: p of lanes 0 and 4), and this lane's
        // row of the constant A that sums them (row 0, g = 0: the offsets; row 1, g = 1: ones; no other lane holds any).
        public ulong OffsetP, OffsetQ;
        public uint OffsetSelect, OffsetOne;

        // The open group's decode constants; the next group's raw words.
        public GroupDecode Open;
        public Quad NextScale, NextZero;
        public int Left, BlockIndex, ScaleWord, ScaleShift, ZeroWord, ZeroShift, Symmetric, Bits;

        // x (f32, this lane's four columns of each k-block) of the next word's k-blocks, rows g and g + 8; with
        // IVariant.SharedX, X0… are this lane's float4s of the next turn (XLow the first one's index, K its column);
        // with IVariant.PreparedX, XA… are the next word's B fragments, one quad per k-block (rows g: X, Y; g + 8: Z,
        // W), XQuad the next one's index.
        public Float4 X0, X1, X2, X3, Y0, Y1, Y2, Y3;
        public long XLow, XHigh;
        public Quad XA, XB, XC, XD;
        public int XQuad;

        // With IVariant.SharedX: this warp's slots (shared address), the slot to fill next (0 or one slot's bytes),
        // this lane's store and read offsets in a slot, the current slab's read address, and the odd 8-bit word's B.
        public uint XBase, XFlip, XStore, XRead, XAt, XSpare0, XSpare1;

        // Quad indices of the next group's scale and zero words (32-bit: a scale array of 2^31 quads is 32 GiB).
        public int ScaleAt, ZeroAt;
        public int K;

        // The emulated mma's operand exchange (TensorCoreMma.IMma.AllocateOperands; empty on PTX).
        public ArrayView<uint> Operands;

        public void Init(TensorCoreGemvShape s, int g, int block)
        {
            BlockIndex = block;
            ScaleWord = g >> 1;
            ScaleShift = 16 * (g & 1);
            ZeroWord = g >> 2;
            ZeroShift = 8 * (g & 3);
            Symmetric = s.Symmetric;
            Bits = s.Bits;
            OffsetSelect = g == 0 ? 0xFFFFFFFFu : 0;
            OffsetOne = g == 1 ? 0x3C003C00u : 0;
        }

        /// <summary>Points the group loads at <paramref name="group"/> of this block.</summary>
        public void StartGroups(int group, TensorCoreGemvShape s)
        {
            int at = (BlockIndex * s.Groups) + group;
            ScaleAt = (at * 4) + ScaleWord;
            ZeroAt = (at * 2) + ZeroWord;
        }

        /// <summary>Loads the raw words of the next group in line and moves on: the block's four tiles' words for this
        /// lane's row are adjacent, one 16-byte load each. Past the block's last group they are the next block's (or,
        /// for the last block, the arrays' two spare groups) and go unused.</summary>
        public void PrefetchGroup(ArrayView<uint> scales, ArrayView<uint> zeros)
        {
            NextScale = scales.Cast<Quad>()[ScaleAt];
            ScaleAt += 4;
            if (Symmetric == 0)
            {
                NextZero = zeros.Cast<Quad>()[ZeroAt];
                ZeroAt += 2;
            }
        }

        /// <summary>Opens the next group: its prefetched words become the decode constants, and the one after it is
        /// prefetched.</summary>
        public void NextGroup<TMma, TVariant>(ArrayView<uint> scales, ArrayView<uint> zeros)
            where TMma : struct, TensorCoreMma.IMma
            where TVariant : struct, IVariant
        {
            TakeGroup<TMma, TVariant>();
            PrefetchGroup(scales, zeros);
        }

        /// <summary>The prefetched words become the open group's decode constants.</summary>
        public void TakeGroup<TMma, TVariant>()
            where TMma : struct, TensorCoreMma.IMma
            where TVariant : struct, IVariant
            => Open.Take<TMma>(NextScale, NextZero, ScaleShift, ZeroShift, Symmetric != 0, Bits, default(TVariant).OffsetDecode);

        /// <summary>Loads x for the next word's k-blocks (zeros for columns ≥ K; with <see cref="IVariant.PreparedX"/>,
        /// their B fragments) and advances.</summary>
        public void LoadX<TVariant>(ArrayView<Float4> quads4, ArrayView<Quad> fragments, TensorCoreGemvShape s)
            where TVariant : struct, IVariant
        {
            int blocks = 8 / default(TVariant).Width;
            if (default(TVariant).PreparedX)
            {
                XA = fragments[XQuad];
                XB = blocks > 1 ? fragments[XQuad + 32] : default;
                XC = blocks > 2 ? fragments[XQuad + 64] : default;
                XD = blocks > 2 ? fragments[XQuad + 96] : default;
                XQuad += 32 * blocks;
                return;
            }

            LoadRow(quads4, XLow, K, s.Cols, blocks, 4, out X0, out X1, out X2, out X3);
            if (default(TVariant).Upper)
            {
                LoadRow(quads4, XHigh, K, s.Cols, blocks, 4, out Y0, out Y1, out Y2, out Y3);
            }

            XLow += 4 * blocks;
            XHigh += 4 * blocks;
            K += 16 * blocks;
        }

        /// <summary>With <see cref="IVariant.SharedX"/>: this lane's float4s of the next turn's columns (two slabs:
        /// 1024/b columns, 8/b float4s per lane, 128 columns apart; zeros past K) and advances.</summary>
        public void FetchX<TVariant>(ArrayView<Float4> quads4, TensorCoreGemvShape s)
            where TVariant : struct, IVariant
        {
            int blocks = 8 / default(TVariant).Width;
            LoadRow(quads4, XLow, K, s.Cols, blocks, 32, out X0, out X1, out X2, out X3);
            XLow += 32 * blocks;
            K += 128 * blocks;
        }

        /// <summary>With <see cref="IVariant.SharedX"/>, at the start of a turn: the fetched float4s as f16 into the
        /// next slot, a warp barrier (the slot's lanes have stored; and every lane has read the slot before it, the last
        /// turn's), the reads pointed at it, and the next turn's x fetched.</summary>
        public void StageX<TMma, TVariant>(ArrayView<Quad> xStage, ArrayView<Float4> quads4, TensorCoreGemvShape s)
            where TMma : struct, TensorCoreMma.IMma
            where TVariant : struct, IVariant
        {
            var mma = default(TMma);
            int width = default(TVariant).Width, blocks = 8 / width;
            uint slot = XBase + XFlip, at = slot + XStore;
            Pack<TMma>(blocks, X0, X1, X2, X3, out uint p0, out uint p1, out uint p2, out uint p3, out uint p4, out uint p5, out uint p6, out uint p7);
            mma.StoreShared(xStage, at, p0, p1);
            if (blocks > 1)
            {
                mma.StoreShared(xStage, at + 256, p2, p3);
            }

            if (blocks > 2)
            {
                mma.StoreShared(xStage, at + 512, p4, p5);
                mma.StoreShared(xStage, at + 768, p6, p7);
            }

            Warp.Barrier();
            XAt = slot + XRead;
            XFlip ^= (uint)(2048 / width);
            FetchX<TVariant>(quads4, s);
        }

        /// <summary>One activation row's x of up to 4 k-blocks as f16 pairs: k-block j's B registers are 2j and 2j + 1
        /// (0 past <paramref name="blocks"/>).</summary>
        private static void Pack<TMma>(int blocks, Float4 q0, Float4 q1, Float4 q2, Float4 q3, out uint p0, out uint p1, out uint p2, out uint p3, out uint p4, out uint p5, out uint p6, out uint p7)
            where TMma : struct, TensorCoreMma.IMma
        {
            var mma = default(TMma);
            p0 = mma.Pack(q0.A, q0.B);
            p1 = mma.Pack(q0.C, q0.D);
            p2 = blocks > 1 ? mma.Pack(q1.A, q1.B) : 0;
            p3 = blocks > 1 ? mma.Pack(q1.C, q1.D) : 0;
            p4 = blocks > 2 ? mma.Pack(q2.A, q2.B) : 0;
            p5 = blocks > 2 ? mma.Pack(q2.C, q2.D) : 0;
            p6 = blocks > 2 ? mma.Pack(q3.A, q3.B) : 0;
            p7 = blocks > 2 ? mma.Pack(q3.C, q3.D) : 0;
        }

        /// <summary>Up to 4 float4s of one activation row, <paramref name="stride"/> float4s apart, from
        /// <paramref name="index"/> (column <paramref name="k"/>): a lane's four columns of up to 4 k-blocks (stride 4),
        /// or its share of a <see cref="IVariant.SharedX"/> turn (stride 32). K is a multiple of 4, so each load is all
        /// inside K or all past it (then zeros).</summary>
        private static void LoadRow(ArrayView<Float4> quads4, long index, int k, int cols, int blocks, int stride, out Float4 q0, out Float4 q1, out Float4 q2, out Float4 q3)
        {
            q0 = k < cols ? quads4[index] : default;
            q1 = blocks > 1 && k + (4 * stride) < cols ? quads4[index + stride] : default;
            q2 = blocks > 2 && k + (8 * stride) < cols ? quads4[index + (2 * stride)] : default;
            q3 = blocks > 2 && k + (12 * stride) < cols ? quads4[index + (3 * stride)] : default;
        }

        /// <summary>One slab of the four tiles (a lane's quad of each), then, when groups span slabs and this was a
        /// group's last, the flush.</summary>
        public void Slab<TMma, TVariant>(ArrayView<Float4> quads4, ArrayView<Quad> fragments, ArrayView<Quad> xStage, ArrayView<uint> scales, ArrayView<uint> zeros, TensorCoreGemvShape s, Quad a, Quad b, Quad c, Quad d, TensorCoreGemm.Duo ha = default, TensorCoreGemm.Duo hb = default, TensorCoreGemm.Duo hc = default, TensorCoreGemm.Duo hd = default)
            where TMma : struct, TensorCoreMma.IMma
            where TVariant : struct, IVariant
        {
            // 3-bit codes: third bits word h for the low words 2h, 2h + 1.
            Word<TMma, TVariant>(quads4, fragments, xStage, scales, zeros, s, a.X, b.X, c.X, d.X, 0, ha.X, hb.X, hc.X, hd.X);
            Word<TMma, TVariant>(quads4, fragments, xStage, scales, zeros, s, a.Y, b.Y, c.Y, d.Y, 1, ha.X, hb.X, hc.X, hd.X);
            Word<TMma, TVariant>(quads4, fragments, xStage, scales, zeros, s, a.Z, b.Z, c.Z, d.Z, 2, ha.Y, hb.Y, hc.Y, hd.Y);
            Word<TMma, TVariant>(quads4, fragments, xStage, scales, zeros, s, a.W, b.W, c.W, d.W, 3, ha.Y, hb.Y, hc.Y, hd.Y);
            if (default(TVariant).SharedX)
            {
                XAt += (uint)(1024 / default(TVariant).Width); // the slab's 32/b k-blocks: 16/b pairs of 64 bytes
            }

            if (default(TVariant).GroupBlocks == 0 && --Left == 0)
            {
                Flush<TMma, TVariant>();
                NextGroup<TMma, TVariant>(scales, zeros);
                Left = s.SlabsPerGroup;
            }
        }

        /// <summary>Word <paramref name="w"/> of the slab per tile: its 8/b k-blocks, with x rounded to f16 first (unless
        /// it already is) and the next word's x loaded.</summary>
        public void Word<TMma, TVariant>(ArrayView<Float4> quads4, ArrayView<Quad> fragments, ArrayView<Quad> xStage, ArrayView<uint> scales, ArrayView<uint> zeros, TensorCoreGemvShape s, uint wa, uint wb, uint wc, uint wd, int w, uint ha, uint hb, uint hc, uint hd)
            where TMma : struct, TensorCoreMma.IMma
            where TVariant : struct, IVariant
        {
            int blocks = 8 / default(TVariant).Width;
            uint x0, x1, x2 = 0, x3 = 0, x4 = 0, x5 = 0, x6 = 0, x7 = 0;
            uint y0 = 0, y1 = 0, y2 = 0, y3 = 0, y4 = 0, y5 = 0, y6 = 0, y7 = 0;
            if (default(TVariant).SharedX)
            {
                // The word's k-blocks w·(8/b) … from pair w·(4/b) of the slab: one quad per pair (8-bit: half of one).
                var mma = default(TMma);
                if (blocks == 1)
                {
                    if ((w & 1) == 0)
                    {
                        var q = mma.LoadShared(xStage, XAt + (uint)(32 * w));
                        (x0, x1, XSpare0, XSpare1) = (q.X, q.Y, q.Z, q.W);
                    }
                    else
                    {
                        (x0, x1) = (XSpare0, XSpare1);
                    }
                }
                else
                {
                    var q = mma.LoadShared(xStage, XAt + (uint)(32 * w * blocks));
                    (x0, x1, x2, x3) = (q.X, q.Y, q.Z, q.W);
                    if (blocks > 2)
                    {
                        var r = mma.LoadShared(xStage, XAt + (uint)(32 * w * blocks) + 64);
                        (x4, x5, x6, x7) = (r.X, r.Y, r.Z, r.W);
                    }
                }
            }
            else
            {
                if (default(TVariant).PreparedX)
                {
                    // One quad per k-block: rows g (B of the first mma) and g + 8 (of the second).
                    (x0, x1, y0, y1) = (XA.X, XA.Y, XA.Z, XA.W);
                    (x2, x3, y2, y3) = (XB.X, XB.Y, XB.Z, XB.W);
                    (x4, x5, y4, y5) = (XC.X, XC.Y, XC.Z, XC.W);
                    (x6, x7, y6, y7) = (XD.X, XD.Y, XD.Z, XD.W);
                }
                else
                {
                    Pack<TMma>(blocks, X0, X1, X2, X3, out x0, out x1, out x2, out x3, out x4, out x5, out x6, out x7);
                    if (default(TVariant).Upper)
                    {
                        Pack<TMma>(blocks, Y0, Y1, Y2, Y3, out y0, out y1, out y2, out y3, out y4, out y5, out y6, out y7);
                    }
                }

                LoadX<TVariant>(quads4, fragments, s);
            }

            int first = w * blocks;
            Block<TMma, TVariant>(scales, zeros, s, wa, wb, wc, wd, 0, first, x0, x1, y0, y1, ha, hb, hc, hd, w & 1);
            if (blocks > 1)
            {
                Block<TMma, TVariant>(scales, zeros, s, wa, wb, wc, wd, 1, first + 1, x2, x3, y2, y3, ha, hb, hc, hd, w & 1);
            }

            if (blocks > 2)
            {
                Block<TMma, TVariant>(scales, zeros, s, wa, wb, wc, wd, 2, first + 2, x4, x5, y4, y5, ha, hb, hc, hd, w & 1);
                Block<TMma, TVariant>(scales, zeros, s, wa, wb, wc, wd, 3, first + 3, x6, x7, y6, y7, ha, hb, hc, hd, w & 1);
            }
        }

        /// <summary>
        /// k-block <paramref name="j"/> of the current words: decoded to scaled f16 weights (<see cref="GroupDecode"/>),
        /// the mma(s), and, when groups lie inside slabs and this is a group's last k-block (<paramref name="index"/> in
        /// the slab), the next group's constants.
        /// </summary>
        private void Block<TMma, TVariant>(ArrayView<uint> scales, ArrayView<uint> zeros, TensorCoreGemvShape s, uint wa, uint wb, uint wc, uint wd, int j, int index, uint x0, uint x1, uint y0, uint y1, uint ha, uint hb, uint hc, uint hd, int parity)
            where TMma : struct, TensorCoreMma.IMma
            where TVariant : struct, IVariant
        {
            var mma = default(TMma);
            mma.UseOperands(Operands);
            int bits = default(TVariant).Bits, groupBlocks = default(TVariant).GroupBlocks;
            bool upper = default(TVariant).Upper;

            bool after = default(TVariant).ScaleAfter, offset = default(TVariant).OffsetDecode;
            Open.Decode(mma, bits, j, wa, wb, wc, wd, out uint a0, out uint a1, out uint a2, out uint a3, out uint c0, out uint c1, out uint c2, out uint c3, !after, ha, hb, hc, hd, parity, offset);
            if (offset)
            {
                // S and X of this k-block: row 0 of A is each k's offset 2^(10−s), row 1 ones.
                PairDecode.Positions(bits, j, lift: true, out int lowShift, out int highShift);
                uint k0 = (PairDecode.Magic(lowShift) & OffsetSelect) | OffsetOne, k2 = (PairDecode.Magic(highShift) & OffsetSelect) | OffsetOne;
                mma.Multiply(ref OffsetP, ref OffsetQ, k0, 0, k2, 0, x0, x1);
            }

            if (after)
            {
                mma.Multiply(ref G0, ref H0, a0, a1, a2, a3, x0, x1);
                mma.Multiply(ref G1, ref H1, c0, c1, c2, c3, x0, x1);
            }
            else
            {
                mma.Multiply(ref P0, ref Q0, a0, a1, a2, a3, x0, x1);
                mma.Multiply(ref P1, ref Q1, c0, c1, c2, c3, x0, x1);
            }
            if (upper && after)
            {
                mma.Multiply(ref Gu0, ref Hu0, a0, a1, a2, a3, y0, y1);
                mma.Multiply(ref Gu1, ref Hu1, c0, c1, c2, c3, y0, y1);
            }
            else if (upper)
            {
                mma.Multiply(ref Pu0, ref Qu0, a0, a1, a2, a3, y0, y1);
                mma.Multiply(ref Pu1, ref Qu1, c0, c1, c2, c3, y0, y1);
            }

            if (groupBlocks > 0 && ((index + 1) & (groupBlocks - 1)) == 0) // a power of two; no % (ILGPU folds it before the branch, dividing by 0)
            {
                Flush<TMma, TVariant>();
                NextGroup<TMma, TVariant>(scales, zeros);
            }
        }

        /// <summary>With <see cref="IVariant.ScaleAfter"/>: the open group's sums times its scales (this lane's rows g
        /// of tiles a–d, in f32) into the results, and the group sums cleared.</summary>
        public void Flush<TMma, TVariant>()
            where TMma : struct, TensorCoreMma.IMma
            where TVariant : struct, IVariant
        {
            if (!default(TVariant).ScaleAfter)
            {
                return;
            }

            var mma = default(TMma);
            float sa = mma.HalfToFloat(Open.Ab.ScaleLow), sb = mma.HalfToFloat(Open.Ab.ScaleHigh);
            float sc = mma.HalfToFloat(Open.Cd.ScaleLow), sd = mma.HalfToFloat(Open.Cd.ScaleHigh);
            if (default(TVariant).OffsetDecode)
            {
                // M = 1: only column 0 of D is stored (the low float of lanes t = 0), so the high floats are left as
                // they are. Each row's sum is Σ (2^(10−s) + code)·x = S + zero·X + Σ (code − zero)·x.
                float offsets = Warp.Shuffle(Interop.IntAsFloat((uint)OffsetP), 0), sum = Warp.Shuffle(Interop.IntAsFloat((uint)OffsetP), 4);
                P0 = Correct(P0, sa, G0, offsets + (Open.Ab.ZeroLow * sum));
                Q0 = Correct(Q0, sb, H0, offsets + (Open.Ab.ZeroHigh * sum));
                P1 = Correct(P1, sc, G1, offsets + (Open.Cd.ZeroLow * sum));
                Q1 = Correct(Q1, sd, H1, offsets + (Open.Cd.ZeroHigh * sum));
                (G0, H0, G1, H1, OffsetP, OffsetQ) = (0, 0, 0, 0, 0, 0);
                return;
            }

            Drain(ref P0, ref Q0, ref P1, ref Q1, ref G0, ref H0, ref G1, ref H1, sa, sb, sc, sd);
            if (default(TVariant).Upper)
            {
                Drain(ref Pu0, ref Qu0, ref Pu1, ref Qu1, ref Gu0, ref Hu0, ref Gu1, ref Hu1, sa, sb, sc, sd);
            }
        }

        /// <summary>One activation-row half: each result pair (tiles a–d) plus its tile's scale times the group's sums,
        /// which are cleared.</summary>
        private static void Drain(ref ulong p0, ref ulong q0, ref ulong p1, ref ulong q1, ref ulong g0, ref ulong h0, ref ulong g1, ref ulong h1, float sa, float sb, float sc, float sd)
        {
            p0 = Fma(p0, sa, g0);
            q0 = Fma(q0, sb, h0);
            p1 = Fma(p1, sc, g1);
            q1 = Fma(q1, sd, h1);
            g0 = 0;
            h0 = 0;
            g1 = 0;
            h1 = 0;
        }

        /// <summary>The low float of <paramref name="sum"/> plus <paramref name="scale"/> times (the low float of
        /// <paramref name="group"/> − <paramref name="correction"/>); the high float as it is.</summary>
        private static ulong Correct(ulong sum, float scale, ulong group, float correction)
        {
            float low = Interop.IntAsFloat((uint)sum) + (scale * (Interop.IntAsFloat((uint)group) - correction));
            return Interop.FloatAsInt(low) | (sum & 0xFFFFFFFF00000000UL);
        }

        /// <summary>Both floats of <paramref name="sum"/> plus <paramref name="scale"/> times those of
        /// <paramref name="group"/>.</summary>
        private static ulong Fma(ulong sum, float scale, ulong group)
        {
            float low = Interop.IntAsFloat((uint)sum) + (scale * Interop.IntAsFloat((uint)group));
            float high = Interop.IntAsFloat((uint)(sum >> 32)) + (scale * Interop.IntAsFloat((uint)(group >> 32)));
            return Interop.FloatAsInt(low) | ((ulong)Interop.FloatAsInt(high) << 32);
        }
    }
}
