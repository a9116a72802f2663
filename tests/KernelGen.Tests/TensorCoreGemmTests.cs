using System;
using ILGPU;
using ILGPU.Runtime;
using ILGPU.Runtime.CPU;
using KernelGen.Backends;
using KernelGen.Quantization;
using Xunit;

namespace KernelGen.Tests;

/// <summary>
/// The tensor-core GEMM (M &gt; 16) over weights in mma fragment order, on ILGPU's CPU accelerator with 32-lane warps,
/// its mma emulated with warp shuffles in PTX's fragment layout: partial activation blocks, padded weight tiles and K,
/// several blocks, K split across blocks, groups ending inside a word, per-channel groups, zero points. The reference
/// is float64 over the numbers the tensor cores read: x rounded to f16 and each weight rounded to f16 after its scale
/// is applied (<c>mul.rn.f16x2</c>), so only the f32 accumulation differs.
/// </summary>
[Collection(ManyThreadsCollection.Name)]
public sealed class TensorCoreGemmTests : IClassFixture<TensorCoreGemmTests.Kernels>
{
    private readonly Kernels kernels;

    private readonly Accelerator accelerator;

    public TensorCoreGemmTests(Kernels kernels)
    {
        this.kernels = kernels;
        accelerator = kernels.Accelerator;
    }

    /// <summary>
    /// x → B fragments in each of the three layouts, against the layouts written out quad by quad from their definition
    /// (which rows and columns each lane's four words hold), with M not a multiple of 16 and K not a multiple of 16, so
    /// that padding rows and columns must come out as 0.
    /// </summary>
    [Theory]
    [InlineData(0, 37, 84, 6)]
    [InlineData(1, 37, 84, 6)]
    [InlineData(TensorCoreGemm.CanonicalLayout, 70, 84, 6)]
    public void PrepareKernel_WritesEachLayoutAsDefined(int layout, int m, int k, int kBlocks)
    {
        var random = new Random(1800 + layout);
        var x = new float[m * k];
        for (int i = 0; i < x.Length; i++)
        {
            x[i] = (float)((random.NextDouble() * 4) - 2);
        }

        int tiles = ((m + 63) / 64) * 4; // whole 64-row blocks, as the GEMM stages them
        var prepare = TensorCoreGemm.LoadPrepare(accelerator);
        using var xBuffer = accelerator.Allocate1D(x);
        using var words = accelerator.Allocate1D<uint>((long)tiles * kBlocks * 32 * 4);
        words.MemSet(0xAB);
        prepare(TensorCoreGemm.PrepareThreads(tiles, kBlocks), xBuffer.View, words.View, k, m, kBlocks, layout);
        var actual = words.GetAsArray1D();

        ushort Half(int row, int col) => row < m && col < k ? Fp16.FromFloat(x[(row * k) + col]) : (ushort)0;
        uint Word(int row, int col) => Half(row, col) | ((uint)Half(row, col + 1) << 16);
        for (int tile = 0; tile < tiles; tile++)
        {
            for (int kb = 0; kb < kBlocks; kb++)
            {
                for (int lane = 0; lane < 32; lane++)
                {
                    int at = (((tile * kBlocks) + kb) * 32) + lane;
                    var expected = new uint[4];
                    if (layout == TensorCoreGemm.CanonicalLayout)
                    {
                        int c = (32 * (tile % 4)) + lane, row = ((tile / 4) * 64) + (8 * (c / 16)) + (c % 8), odd = (c / 8) % 2;
                        for (int j = 0; j < 4; j++)
                        {
                            expected[j] = Word(row, (kb * 16) + (4 * j) + (2 * odd));
                        }
                    }
                    else
                    {
                        int g = lane / 4, t = lane % 4, low = (tile * 16) + g, col = (kb * 16) + (4 * t);
                        uint lowFirst = Word(low, col), lowSecond = Word(low, col + 2), highFirst = Word(low + 8, col), highSecond = Word(low + 8, col + 2);
                        expected = layout == 1 ? [lowFirst, lowSecond, highFirst, highSecond] : [lowFirst, highFirst, lowSecond, highSecond];
                    }

                    for (int w = 0; w < 4; w++)
                    {
                        Assert.True(expected[w] == actual[(4 * at) + w], $"layout {layout}, tile {tile}, k-block {kb}, lane {lane}, word {w}: expected 0x{expected[w]:X8}, got 0x{actual[(4 * at) + w]:X8}");
                    }
                }
            }
        }
    }

    [Fact]
    public void FourBitAsymmetricG128_SplitK_PaddedTiles() => Check<B4G128A>(rows: 72, cols: 384, 17, 70);

    /// <summary>Output tiles that lie wholly inside y take a store path with no test per value: M = 128 is one warpgroup
    /// block with K split in two (atomic adds), M = 130 two blocks without a split (plain stores), both beside the weight
    /// rows cut at 72 and, at 130, a second tile cut by M. (mma.sync's whole tiles: M = 64 and 70 in other tests.)</summary>
    [Fact]
    public void FourBitAsymmetricG128_WholeTiles_SplitAndNot() => Check<B4G128A>(rows: 72, cols: 384, 128, 130);

    [Fact]
    public void FourBitSymmetricG32_GroupsInsideASlab() => Check<B4G32S>(rows: 40, cols: 256, 33);

    [Fact]
    public void EightBitPerChannelSymmetric_PaddedK() => Check<B8GPCS>(rows: 33, cols: 96, 130);

    [Fact]
    public void EightBitAsymmetricG32() => Check<B8G32A>(rows: 32, cols: 160, 20);

    [Fact]
    public void TwoBitAsymmetricG32_GroupsInsideAWord() => Check<B2G32A>(rows: 64, cols: 320, 64);

    [Fact]
    public void TwoBitSymmetricPerChannel() => Check<B2GPCS>(rows: 24, cols: 288, 18);

    [Fact]
    public void EightBitAsymmetricG128_GroupsOfTwoSlabs_SplitsStartInsideAGroup() => Check<B8G128A>(rows: 40, cols: 768, 20);

    [Fact]
    public void FourBitAsymmetricG256_GroupsOfTwoSlabs() => Check<B4G256A>(rows: 40, cols: 1536, 20, 65);

    [Fact]
    public void TwoBitSymmetricG128_GroupsOfHalfASlab() => Check<B2G128S>(rows: 32, cols: 512, 24);

    [Fact]
    public void TwoBitAsymmetricG64_GroupsOfAQuarterSlab() => Check<B2G64A>(rows: 40, cols: 512, 20);

    /// <summary>3-bit codes (low bits laid out as 2-bit ones, third bits in their own plane): groups of 128 inside the
    /// slab of 256, 6 slabs split across blocks, padded rows.</summary>
    [Fact]
    public void ThreeBitAsymmetricG128_SplitK_PaddedTiles() => Check<B3G128A>(rows: 40, cols: 1408, 20, 70);

    /// <summary>The warpgroup form's splits pick what the H200 measured fastest (gemm.md, session 24: q4g128 with 1, 2, 4,
    /// 8 and 16 splits forced, then the rule against two blocks per SM).</summary>
    [Fact]
    public void GroupSplits_PickTheMeasuredFastest()
    {
        Assert.Equal(4, TensorCoreGemm.GroupSplits(tiles: 32, kBlocks: 256, multiprocessors: 132)); // 4096², M = 128: 23.1 µs (8: 26.3–27.4)
        Assert.Equal(2, TensorCoreGemm.GroupSplits(tiles: 64, kBlocks: 256, multiprocessors: 132)); // 4096², M = 256: 32.5–33.1 (4: 34.2–34.8)
        Assert.Equal(1, TensorCoreGemm.GroupSplits(tiles: 128, kBlocks: 256, multiprocessors: 132)); // 4096², M = 512: 42.9–43.2 (2: 48.2–49.8)
        Assert.Equal(4, TensorCoreGemm.GroupSplits(tiles: 64, kBlocks: 512, multiprocessors: 132)); // 8192², M = 64: 41.1–42.5 (2: 47.7)
        Assert.Equal(2, TensorCoreGemm.GroupSplits(tiles: 128, kBlocks: 512, multiprocessors: 132)); // 8192², M = 256: 73.5–74.0 (1: 79.4–79.7)
        Assert.Equal(8, TensorCoreGemm.GroupSplits(tiles: 32, kBlocks: 896, multiprocessors: 132)); // 4096×14336, M = 64: 38.5–39.1 (4: 44.5)
        Assert.Equal(2, TensorCoreGemm.GroupSplits(tiles: 128, kBlocks: 896, multiprocessors: 132)); // 4096×14336, M = 512: 123.2–123.6 (1: 163.8)
        Assert.Equal(1, TensorCoreGemm.GroupSplits(tiles: 256, kBlocks: 512, multiprocessors: 132)); // 8192², M = 512
        Assert.Equal(1, TensorCoreGemm.GroupSplits(tiles: 224, kBlocks: 512, multiprocessors: 132)); // 28672×8192, M ≤ 128
        Assert.Equal(2, TensorCoreGemm.GroupSplits(tiles: 1, kBlocks: 24, multiprocessors: 2)); // this class's one-tile cases
        Assert.Equal(1, TensorCoreGemm.GroupSplits(tiles: 2, kBlocks: 24, multiprocessors: 2));
    }

    [Fact]
    public void GroupEnds_AreConstantWhereGroupsAndSlabsAlign()
    {
        // Slabs are 16, 8 and 4 k-blocks at 2, 4 and 8 bits: spanning slabs → 0, dividing one → its k-blocks, else −1.
        Assert.Equal(0, TensorCoreGemm.GroupEnds(4, 8));
        Assert.Equal(0, TensorCoreGemm.GroupEnds(8, 512)); // per-channel, K = 8192
        Assert.Equal(4, TensorCoreGemm.GroupEnds(2, 4));
        Assert.Equal(8, TensorCoreGemm.GroupEnds(3, 8)); // 3-bit slabs are 2-bit ones
        Assert.Equal(2, TensorCoreGemm.GroupEnds(8, 2));
        Assert.Equal(-1, TensorCoreGemm.GroupEnds(8, 6)); // per-channel, K = 96
        Assert.Equal(-1, TensorCoreGemm.GroupEnds(4, 3));
    }

    [Fact]
    public void BadArguments_SayWhat()
    {
        Assert.False(TensorCoreGemm.Supports(B5G32A.Info, 256));
        Assert.True(TensorCoreGemm.Supports(B3G32A.Info, 256));
        Assert.True(TensorCoreGemm.Supports(B8GPCS.Info, 96));
        var gemm = new TensorCoreGemm(accelerator);
        var four = MmaPackedWeights.Create(QuantizedMatrix<B4G32A>.Quantize(TestData.Weights(TestData.CreateRandom("tc-gemm-small"), 8, 64, 32), 8, 64));
        using var buffer = accelerator.Allocate1D<uint>(1);
        using var floats = accelerator.Allocate1D<float>(20 * 64);
        var small = Assert.Throws<ArgumentException>(() => gemm.Run(four, buffer.View, buffer.View, buffer.View, floats.View, buffer.View, floats.View, 20));
        Assert.Contains($"needs {TensorCoreGemm.FragmentLength(four, 20)}", small.Message);
        var shortX = Assert.Throws<ArgumentException>(() => gemm.Run(four, buffer.View, buffer.View, buffer.View, floats.View, buffer.View, floats.View, 21));
        Assert.Contains("M = 21", shortX.Message);
    }

    /// <summary>Both mma forms (mma.sync and the warpgroup form, emulated here; on CUDA the latter runs only on compute
    /// capability 9.0) against float64, for each M in <paramref name="ms"/>.</summary>
    private void Check<TScheme>(int rows, int cols, params int[] ms)
        where TScheme : struct, IQuantScheme
    {
        var random = TestData.CreateRandom(typeof(TScheme).Name + nameof(TensorCoreGemmTests));
        var matrix = QuantizedMatrix<TScheme>.Quantize(TestData.Weights(random, rows, cols, TScheme.Info.IsPerChannel ? cols : TScheme.Info.GroupSize), rows, cols);
        var w = matrix.Dequantize(); // (code − zero) · scale, exact in float
        var repacked = MmaPackedWeights.Create(matrix);
        using var packed = accelerator.Allocate1D(repacked.Packed);
        using var scales = accelerator.Allocate1D(repacked.Scales);
        using var zeros = repacked.Zeros.Length > 0 ? accelerator.Allocate1D(repacked.Zeros) : accelerator.Allocate1D<uint>(1);
        foreach (bool warpGroups in new[] { false, true })
        {
            var gemm = warpGroups ? kernels.WarpGroups : kernels.MmaSync;
            foreach (int m in ms)
            {
                using var fragments = accelerator.Allocate1D<uint>(TensorCoreGemm.FragmentLength(repacked, m));
                var x = TestData.Activations(random, m * cols);
                using var input = accelerator.Allocate1D(x);
                using var output = accelerator.Allocate1D<float>((long)m * rows);
                output.MemSet(0xFF); // NaN: every element must be written
                gemm.Run(repacked, packed.View, scales.View, zeros.View, input.View, fragments.View, output.View, m);
                accelerator.Synchronize();
                var y = output.GetAsArray1D();
                Reference.AssertHalfInputProduct(x, w, y, m, rows, cols, roundWeights: true, $"{TScheme.Info} ({(warpGroups ? "wgmma" : "mma.sync")})");
            }
        }
    }

    /// <summary>One CPU accelerator and one GEMM per form for the whole class, so that tests sharing a kernel variant
    /// compile it once (the tests run one at a time).</summary>
    public sealed class Kernels : IDisposable
    {
        private readonly Cpu32Accelerator cpu = new(Math.Max(TensorCoreGemm.Warps, TensorCoreGemm.GroupWarps));

        public Kernels()
        {
            MmaSync = new TensorCoreGemm(cpu.Accelerator, false);
            // Two SMs for the warpgroup form's split rule, so that one 128 × 128 output tile is split in two, as the
            // M ≤ 128 cases mean to cover (with one SM, GroupSplits leaves these short K whole).
            WarpGroups = new TensorCoreGemm(cpu.Accelerator, true, multiprocessors: 2);
        }

        public Accelerator Accelerator => cpu.Accelerator;

        public TensorCoreGemm MmaSync { get; }

        public TensorCoreGemm WarpGroups { get; }

        public void Dispose() => cpu.Dispose();
    }
}

/// <summary>4-bit groups of 256: two slabs per group (the GEMM's per-slab group counter).</summary>
[QuantScheme(Bits = 4, GroupSize = 256, Symmetric = false)]
public partial struct B4G256A;

/// <summary>4-bit groups of 64: two per slab (the int8-activation batch kernel's unit of its own constants).</summary>
[QuantScheme(Bits = 4, GroupSize = 64, Symmetric = false)]
public partial struct B4G64A;

/// <summary>2-bit groups of 64: four per slab (group ends at fixed k-blocks, as q2g64).</summary>
[QuantScheme(Bits = 2, GroupSize = 64, Symmetric = false)]
public partial struct B2G64A;
