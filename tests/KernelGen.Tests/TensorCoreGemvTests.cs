using System;
using System.Linq;
using ILGPU;
using ILGPU.Runtime;
using KernelGen.Backends;
using KernelGen.Quantization;
using Xunit;

namespace KernelGen.Tests;

/// <summary>
/// The tensor-core GEMV over weights in mma fragment order: the repacking is lossless (every code, scale and zero point read back from the fragment
/// order equals the matrix's), and the kernel, on ILGPU's CPU accelerator with 32-lane warps where its mma is emulated
/// in PTX's fragment layout, agrees with a float64 reference over the numbers the tensor cores read: activations rounded
/// to f16 and each weight rounded to f16 after its scale is applied (or exact, where the kernel scales each group's
/// sums instead; 2-bit codes at M = 1 also carry an offset per weight in those sums until the group's correction, whose
/// f32 rounding the bound allows for). The weights reach the mma from registers or through shared memory (cp.async). Codes are 2, 3 (two
/// planes: low bits and third bits), 4 and 8 bits wide. The shapes cover padded rows and K, groups smaller than, equal to and larger than a slab, per-channel groups split between warps,
/// warps with no slabs, M on both sides of 8 (above 8 with x in f32 and as B fragments from a first launch), and M = 1,
/// whose x goes through shared memory, over several turns. The class runs with the other many-thread classes, alone
/// (<see cref="ManyThreadsCollection"/>).
/// </summary>
[Collection(ManyThreadsCollection.Name)]
public sealed class TensorCoreGemvTests : IClassFixture<TensorCoreGemvTests.Kernels>
{
    private readonly Kernels kernels;

    public TensorCoreGemvTests(Kernels kernels) => this.kernels = kernels;

    [Fact]
    public void FourBitAsymmetricG128_PaddedTiles_WarpsWithoutSlabs() => CheckPrepared<B4G128A>(rows: 40, cols: 256, 1, 3, 8, 9, 16);

    /// <summary>Groups of two k-blocks inside a slab of eight: M = 1 scales each group's f32 sums when it closes
    /// (<see cref="TensorCoreGemv.ScalesAfter"/>), M = 9 scales every weight.</summary>
    [Fact]
    public void FourBitSymmetricG32_GroupsInsideASlab() => Check<B4G32S>(rows: 40, cols: 512, 1, 9);

    [Fact]
    public void FourBitPerChannelAsymmetric_GroupSpansWarps() => CheckPrepared<B4GPCA>(rows: 16, cols: 1024, 2, 16);

    [Fact]
    public void EightBitPerChannelSymmetric_PaddedK() => Check<B8GPCS>(rows: 33, cols: 160, 1, 12);

    [Fact]
    public void EightBitAsymmetricG128_UnevenSplit() => Check<B8G128A>(rows: 48, cols: 640, 5, 16);

    [Fact]
    public void TwoBitAsymmetricG32_PaddedK() => CheckPrepared<B2G32A>(rows: 40, cols: 96, 1, 10);

    [Fact]
    public void TwoBitSymmetricG128() => CheckPrepared<B2G128S>(rows: 20, cols: 512, 7, 16);

    /// <summary>Weights through a 2-slab shared-memory ring, as 2-bit M &gt; 8 runs (TwoBitAsymmetricG32_PaddedK covers it
    /// with one slab per warp): 18 slabs of 256 columns give warps 3, 3, 3, 3, 3, 3, 0, 0 slabs, so the ring wraps, and
    /// a group of one slab closes after every slab read from it; M = 12 scales both row halves' group sums (x as B
    /// fragments); M = 1 stages x in the same shared allocation, after the rings, every two slabs.</summary>
    [Fact]
    public void TwoBitAsymmetricG256_WeightsThroughSharedMemory_RingWraps() => Check<B2G256A>(rows: 8, cols: 4608, 2, true, 1, 12);

    /// <summary>M = 1 stages x through shared memory two slabs per turn (<see cref="TensorCoreGemv.SharedX"/>): 37 slabs
    /// give warps 5 slabs each (three turns, the last of one slab) and the last warp 2; M = 2 runs the other variant
    /// on the same weights, and M = 16 reads x as B fragments over the same slabs.</summary>
    [Fact]
    public void FourBitAsymmetricG128_SharedX_SeveralTurns() => CheckPrepared<B4G128A>(rows: 8, cols: 4736, 1, 2, 16);

    /// <summary>x through shared memory with 2-bit codes (two shared loads per word; groups inside a slab): K = 6112
    /// pads to 24 slabs of 256, so the last warp's last turn reads x past K, which must count as zeros.</summary>
    [Fact]
    public void TwoBitAsymmetricG32_SharedX_PaddedK() => CheckPrepared<B2G32A>(rows: 8, cols: 6112, 1);

    /// <summary>x through shared memory with 8-bit codes (one shared load per two words): K = 1184 pads to 19 slabs of
    /// 64, three per warp (two turns, the second of one slab), the last warp one.</summary>
    [Fact]
    public void EightBitPerChannelSymmetric_SharedX_PaddedK() => Check<B8GPCS>(rows: 8, cols: 1184, 1);

    /// <summary>Groups of 16 warps (<see cref="TensorCoreGemv.WarpsFor"/>: one block of rows, which has this one-SM
    /// accelerator to itself) with slabs for warps 8–15 too: K = 4352 is 34 slabs of 128, 3 per warp (warp 11 has 1,
    /// warps 12–15 none), at M = 1 (x through shared memory), M = 3 (x in f32) and M = 16 (x as B fragments).</summary>
    [Fact]
    public void FourBitAsymmetricG128_SixteenWarps() => CheckWide<B4G128A>(rows: 24, cols: 4352, prepareX: true, 1, 3, 16);

    /// <summary>As <see cref="FourBitAsymmetricG128_SixteenWarps"/> with 8-bit codes (slabs of 64: K = 2112 is 33, 3
    /// per warp) at M = 12, which reads x in f32 for both row halves.</summary>
    [Fact]
    public void EightBitPerChannelSymmetric_SixteenWarps() => CheckWide<B8GPCS>(rows: 16, cols: 2112, prepareX: null, 12);

    /// <summary>3-bit codes (low bits as 2-bit codes, third bits in a plane of their own; groups of 128 inside the slab of
    /// 256), weights in registers, as grids of at most one block per SM run them: M = 1 with x through shared memory over
    /// several turns (K = 4992 pads to 20 slabs: warps of 3 slabs, two turns each, the seventh 2 and the last none), M = 5
    /// with x in f32, M = 16 with x as B fragments; 40 rows pad to two blocks. (With stages chosen per variant, two blocks
    /// on this one-SM accelerator would take the ring: the next test.)</summary>
    [Fact]
    public void ThreeBitAsymmetricG128_AllPaths() => Check<B3G128A>(rows: 40, cols: 4992, 0, true, 1, 5, 16);

    /// <summary>3-bit codes through the 2-slab shared-memory ring: each stage holds the low plane's quads (16-byte
    /// cp.async) and the third bits' duos (8-byte cp.async). K = 4992 pads to 20 slabs: warps of 3 slabs (the ring
    /// wraps), the seventh 2, the last none; groups of 128 close inside each slab; M = 5 reads x in f32, M = 16 as
    /// B fragments; M = 1 stages x in the same shared allocation, after the rings, every two slabs (three-slab warps:
    /// a turn of one slab last).</summary>
    [Fact]
    public void ThreeBitAsymmetricG128_WeightsThroughSharedMemory_RingWraps() => Check<B3G128A>(rows: 40, cols: 4992, 2, true, 1, 5, 16);

    /// <summary>3-bit per-channel symmetric (one group across the warps: scales after the group), padded K.</summary>
    [Fact]
    public void ThreeBitPerChannelSymmetric_PaddedK() => Check<B3GPCS>(rows: 24, cols: 352, 2);

    [Fact]
    public void Repacking_KeepsEveryCodeScaleAndZero()
    {
        RoundTrip<B4G128A>(37, 384);
        RoundTrip<B8G32A>(9, 224);
        RoundTrip<B2GPCA>(12, 288);
        RoundTrip<B4G32S>(8, 128);
        RoundTrip<B3G128A>(41, 896);
        RoundTrip<B3GPCS>(9, 96);
    }

    [Fact]
    public void Unsupported_SaysWhat()
    {
        Assert.False(MmaPackedWeights.Supports(B5G128A.Info, 256));
        Assert.True(MmaPackedWeights.Supports(B3G128A.Info, 256));
        var matrix = QuantizedMatrix<B5G32A>.Quantize(TestData.Weights(TestData.CreateRandom(nameof(Unsupported_SaysWhat)), 8, 64, 32), 8, 64);
        var e = Assert.Throws<ArgumentException>(() => MmaPackedWeights.Create(matrix));
        Assert.Contains("2-, 3-, 4- or 8-bit codes", e.Message);
        var packed = MmaPackedWeights.Create(QuantizedMatrix<B4G32S>.Quantize(TestData.Weights(TestData.CreateRandom("m17"), 8, 64, 32), 8, 64));
        var gemv = kernels.Gemv(null);
        using var buffer = kernels.Accelerator.Allocate1D<uint>(packed.Packed.Length);
        using var io = kernels.Accelerator.Allocate1D<float>(17 * 64);
        var m = Assert.Throws<ArgumentOutOfRangeException>(() => gemv.Run(packed, buffer.View, buffer.View, buffer.View, io.View, buffer.View, io.View, 17));
        Assert.Contains("1 to 16 activation rows", m.Message);
        var f = Assert.Throws<ArgumentException>(() => kernels.Gemv(null, prepareX: true).Run(packed, buffer.View, buffer.View, buffer.View, io.View, buffer.View.SubView(0, 1), io.View, 16));
        Assert.Contains("fragment buffer holds 1 words; M = 16, K = 64 needs", f.Message);

        // The GEMV also needs K to be a multiple of 4 (x is read four floats at a time; every packed K is, being a
        // multiple of 32).
        Assert.True(TensorCoreGemv.Supports(B4G32S.Info, 64));
        Assert.False(TensorCoreGemv.Supports(B4G32S.Info, 70));
        Assert.True(TensorCoreGemv.Supports(B4GPCA.Info, 112));
        Assert.True(TensorCoreGemv.Supports(B3G128A.Info, 4096)); // groups of 128 inside a 3-bit slab of 256 columns
        Assert.True(TensorCoreGemv.Supports(B3G32S.Info, 4096));
    }

    private static void RoundTrip<TScheme>(int rows, int cols)
        where TScheme : struct, IQuantScheme
    {
        var random = TestData.CreateRandom(typeof(TScheme).Name + nameof(RoundTrip));
        var matrix = QuantizedMatrix<TScheme>.Quantize(TestData.Weights(random, rows, cols, TScheme.Info.IsPerChannel ? cols : TScheme.Info.GroupSize), rows, cols);
        var packed = MmaPackedWeights.Create(matrix);
        var dims = matrix.Dims;
        for (int r = 0; r < rows; r++)
        {
            for (int k = 0; k < cols; k++)
            {
                Assert.Equal(matrix.GetCode(r, k), packed.Code(r, k));
            }

            for (int group = 0; group < dims.GroupsPerRow; group++)
            {
                Assert.Equal(matrix.Scales[(r * dims.GroupsPerRow) + group], packed.Scale(r, group));
                Assert.Equal(matrix.GetZero(r, group), packed.Zero(r, group));
            }
        }

        // Padding: rows past N and k past K hold code 0, and groups past K have scale 0.
        for (int r = 0; r < packed.Tiles * MmaPackedWeights.TileRows; r++)
        {
            for (int k = r < rows ? cols : 0; k < packed.Slabs * packed.SlabCols; k++)
            {
                Assert.Equal(0, packed.Code(r, k));
            }
        }

        for (int group = dims.GroupsPerRow; group < packed.Groups; group++)
        {
            Assert.Equal(0, packed.Scale(0, group));
        }
    }

    private void Check<TScheme>(int rows, int cols, params int[] batches)
        where TScheme : struct, IQuantScheme
        => Check<TScheme>(rows, cols, null, null, batches);

    private void Check<TScheme>(int rows, int cols, int? stages, params int[] batches)
        where TScheme : struct, IQuantScheme
        => Check<TScheme>(rows, cols, stages, null, batches);

    /// <summary>As <see cref="Check{TScheme}(int, int, int[])"/>, with M &gt; 8 reading x as B fragments from a first
    /// launch (<see cref="TensorCoreGemv.PreparesX"/>; large 2- and 4-bit weights run this way, and these 2- and 4-bit
    /// tests share that GEMV's kernels).</summary>
    private void CheckPrepared<TScheme>(int rows, int cols, params int[] batches)
        where TScheme : struct, IQuantScheme
        => Check<TScheme>(rows, cols, null, true, batches);

    /// <summary><see cref="Check{TScheme}(int, int, int?, bool?, int?, int[])"/>, asserting that every M runs groups of
    /// <see cref="TensorCoreGemv.WideWarpsPerGroup"/> warps.</summary>
    private void CheckWide<TScheme>(int rows, int cols, bool? prepareX, params int[] batches)
        where TScheme : struct, IQuantScheme
        => Check<TScheme>(rows, cols, null, prepareX, TensorCoreGemv.WideWarpsPerGroup, batches);

    private void Check<TScheme>(int rows, int cols, int? stages, bool? prepareX, params int[] batches)
        where TScheme : struct, IQuantScheme
        => Check<TScheme>(rows, cols, stages, prepareX, null, batches);

    /// <summary>Checks the GEMV with <paramref name="stages"/> slabs in flight through shared memory (null: as the
    /// kernel picks per variant) and x converted first or not (<paramref name="prepareX"/>; null: as the GEMV picks,
    /// which for these small weights is not) against the reference over the numbers it reads: weights rounded to f16
    /// after their scale, or, where the kernel scales each group's f32 sums instead, exact. Where
    /// <paramref name="warps"/> is set, every M must run groups of that many warps.</summary>
    private void Check<TScheme>(int rows, int cols, int? stages, bool? prepareX, int? warps, int[] batches)
        where TScheme : struct, IQuantScheme
    {
        var accelerator = kernels.Accelerator;
        var random = TestData.CreateRandom(typeof(TScheme).Name + nameof(TensorCoreGemvTests));
        var matrix = QuantizedMatrix<TScheme>.Quantize(TestData.Weights(random, rows, cols, TScheme.Info.IsPerChannel ? cols : TScheme.Info.GroupSize), rows, cols);
        var w = matrix.Dequantize();
        var packed = MmaPackedWeights.Create(matrix);
        var gemv = kernels.Gemv(stages, prepareX);
        Assert.Equal(prepareX == true && batches.Any(m => m > 8), batches.Any(m => gemv.PreparesX(packed, m)));
        if (warps is int expected)
        {
            Assert.All(batches, m => Assert.Equal(expected, gemv.WarpsOf(packed, m)));
        }

        using var codes = accelerator.Allocate1D(packed.Packed);
        using var scales = accelerator.Allocate1D(packed.Scales);
        using var zeros = packed.Zeros.Length > 0 ? accelerator.Allocate1D(packed.Zeros) : accelerator.Allocate1D<uint>(1);
        foreach (int m in batches)
        {
            var x = TestData.Activations(random, m * cols);
            using var input = accelerator.Allocate1D(x);
            using var output = accelerator.Allocate1D<float>((long)m * rows);
            output.MemSet(0xFF); // NaN: every element must be written
            using var fragments = accelerator.Allocate1D<uint>(Math.Max(1, gemv.FragmentLength(packed, m)));
            fragments.MemSet(0xFF); // NaN halves: the kernel must read only what the first launch wrote, or spare words it ignores
            gemv.Run(packed, codes.View, scales.View, zeros.View, input.View, fragments.View, output.View, m);
            accelerator.Synchronize();
            var y = output.GetAsArray1D();
            var offsets = gemv.DecodesWithOffsets(packed, m) ? Offsets(matrix, 64) : null;
            Reference.AssertHalfInputProduct(x, w, y, m, rows, cols, roundWeights: !gemv.ScalesAfter(packed, m), $"{TScheme.Info} stages {stages?.ToString() ?? "auto"} prepared x {gemv.PreparesX(packed, m)} offsets {offsets is not null}", offsets);
        }
    }

    /// <summary>The largest offset the offset decode adds to a code (<see cref="TensorCoreGemv.IVariant.OffsetDecode"/>: 64,
    /// at bit 4) times each weight's |scale|, row-major: what its f32 sums carry per |x|.</summary>
    private static double[] Offsets<TScheme>(QuantizedMatrix<TScheme> matrix, int offset)
        where TScheme : struct, IQuantScheme
    {
        var dims = matrix.Dims;
        var result = new double[(long)dims.Rows * dims.Cols];
        for (int r = 0; r < dims.Rows; r++)
        {
            for (int k = 0; k < dims.Cols; k++)
            {
                result[((long)r * dims.Cols) + k] = offset * Math.Abs((double)BitConverter.UInt16BitsToHalf(matrix.Scales[((long)r * dims.GroupsPerRow) + (k / dims.GroupSize)]));
            }
        }

        return result;
    }

    /// <summary>One CPU accelerator and one GEMV per stage and x setting for the whole class, so that tests sharing a
    /// kernel variant compile it once (the tests run one at a time).</summary>
    public sealed class Kernels : IDisposable
    {
        private readonly Cpu32Accelerator cpu = new(TensorCoreGemv.WideWarpsPerGroup); // groups of 8 warps, and of 16 where one block of rows has an SM (all of the CPU accelerator) to itself
        private readonly System.Collections.Generic.Dictionary<(int?, bool?), TensorCoreGemv> gemvs = new();

        public Accelerator Accelerator => cpu.Accelerator;

        public TensorCoreGemv Gemv(int? stages, bool? prepareX = null)
        {
            if (!gemvs.TryGetValue((stages, prepareX), out var gemv))
            {
                gemvs[(stages, prepareX)] = gemv = new TensorCoreGemv(cpu.Accelerator, stages, prepareX);
            }

            return gemv;
        }

        public void Dispose() => cpu.Dispose();
    }
}

/// <summary>2-bit groups of 256: one slab per group (the staged GEMV's group counter across its ring).</summary>
[QuantScheme(Bits = 2, GroupSize = 256, Symmetric = false)]
public partial struct B2G256A;
