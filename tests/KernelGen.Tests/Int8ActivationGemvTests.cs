using System;
using ILGPU;
using ILGPU.Runtime;
using KernelGen.Backends;
using KernelGen.Quantization;
using Xunit;

namespace KernelGen.Tests;

/// <summary>
/// The decode GEMV with x rounded to int8 (<see cref="Int8ActivationGemv"/>), on ILGPU's CPU accelerator with 32-lane
/// warps where its integer mma is emulated in PTX's m16n8k32 fragment layout, for 2-, 3- and 4-bit codes. Two references, both float64 over the
/// layer's dequantized weights: x rounded here as the type documents it (|x|max / 127 per 128 columns, ties to even),
/// which the kernel must match to f32 summation error; and x itself, from which the kernel may differ by at most half a
/// rounding step of x per weight. Shapes cover padded rows and K, a block of zeros, warps without slabs, several slabs
/// per warp, groups of one and two units and per-channel groups.
/// </summary>
[Collection(ManyThreadsCollection.Name)]
public sealed class Int8ActivationGemvTests : IClassFixture<Int8ActivationGemvTests.Kernels>
{
    private readonly Kernels kernels;

    public Int8ActivationGemvTests(Kernels kernels) => this.kernels = kernels;

    /// <summary>K = 192 pads to one slab of 256 (only warp 0 has slabs; its last unit is padding); 40 rows pad to two
    /// blocks of 32, two per SM of this one-SM accelerator: groups of 8 warps.</summary>
    [Fact]
    public void TwoBitAsymmetricG64_PaddedRowsAndK() => Check<B2G64A>(rows: 40, cols: 192, warps: 8);

    /// <summary>100 rows are four blocks, more than two per SM of this one-SM accelerator: groups of 4 warps. K = 4608 is 18 slabs: warps of 5
    /// (two turns of two, then one), the last 3; groups of two units.</summary>
    [Fact]
    public void TwoBitSymmetricG128_FourWarps_SeveralSlabsPerWarp() => Check<B2G128S>(rows: 100, cols: 4608, warps: 4);

    /// <summary>Groups of four units (one per slab); K = 8192 is 32 slabs, four per warp: two turns of the two register
    /// sets.</summary>
    [Fact]
    public void TwoBitAsymmetricG256_TwoTurnsPerWarp() => Check<B2G256A>(rows: 16, cols: 8192, warps: 8);

    /// <summary>One group per row across all warps; K = 992 ends inside a unit.</summary>
    [Fact]
    public void TwoBitPerChannelAsymmetric_PaddedK() => Check<B2GPCA>(rows: 8, cols: 992, warps: 8);

    /// <summary>3-bit codes (low bits as 2-bit codes, third bits in a plane of their own, merged into the low bits' bytes
    /// per unit: both units of a third-bit word, parities 0 and 1), 100 rows (groups of 4 warps), K = 4992 padded to 20
    /// slabs: warps of 5, the last none; groups of 128 inside each slab.</summary>
    [Fact]
    public void ThreeBitAsymmetricG128_FourWarps_PaddedK() => Check<B3G128A>(rows: 100, cols: 4992, warps: 4);

    /// <summary>3-bit per-channel symmetric (zero point 4), padded K, groups of 8 warps; one block.</summary>
    [Fact]
    public void ThreeBitPerChannelSymmetric_PaddedK() => Check<B3GPCS>(rows: 24, cols: 352, warps: 8);

    /// <summary>4-bit codes (nibbles: two words per unit and tile, two units per slab of 128 columns), 72 rows (three
    /// blocks: groups of 4 warps), K = 2432 is 19 slabs: warps of 5 (two turns of two, then one), the last 4; x's blocks
    /// of 256 columns are two slabs each, so odd slabs read their second halves, and the last block's second half is
    /// padding; groups of two units.</summary>
    [Fact]
    public void FourBitAsymmetricG128_FourWarps_OddSlabsPerWarp() => Check<B4G128A>(rows: 72, cols: 2432, warps: 4);

    /// <summary>4-bit groups of four units, each spanning two slabs; K = 2048 is 16 slabs, two per warp (one turn).</summary>
    [Fact]
    public void FourBitAsymmetricG256_GroupsSpanSlabs() => Check<B4G256A>(rows: 32, cols: 2048, warps: 8);

    /// <summary>4-bit groups of one unit (two groups per slab, loaded a group apart from one index); K = 960 pads to 8
    /// slabs, one per warp, the last slab's second unit padding.</summary>
    [Fact]
    public void FourBitAsymmetricG64_PaddedK() => Check<B4G64A>(rows: 40, cols: 960, warps: 8);

    /// <summary>4-bit per-channel symmetric (zero point 8); K = 416 ends inside a unit and pads to 4 slabs (two x blocks),
    /// one per warp of the first four.</summary>
    [Fact]
    public void FourBitPerChannelSymmetric_PaddedK() => Check<B4GPCS>(rows: 48, cols: 416, warps: 8);

    /// <summary>Batches of 4-bit codes: M = 2 (one group of 8 rows of x, six of them zeros), groups of two units shared
    /// by a slab, 72 rows (groups of 4 warps), K = 2432 (19 slabs: warps of 5, the last 4).</summary>
    [Fact]
    public void Batch_FourBitAsymmetricG128_M2() => CheckBatch<B4G128A>(rows: 72, cols: 2432, m: 2, warps: 4);

    /// <summary>M = 8 fills the first group of x rows exactly; groups of 64 columns (each unit its own scales and zero
    /// points), K = 960 ends inside a unit.</summary>
    [Fact]
    public void Batch_FourBitAsymmetricG64_M8_PaddedK() => CheckBatch<B4G64A>(rows: 40, cols: 960, m: 8, warps: 8);

    /// <summary>M = 13: both groups of x rows, the second partly zeros; per-channel symmetric, padded K; three row blocks
    /// (groups of 4 warps).</summary>
    [Fact]
    public void Batch_FourBitPerChannelSymmetric_M13() => CheckBatch<B4GPCS>(rows: 72, cols: 1440, m: 13, warps: 4);

    /// <summary>M = 16, groups of four units spanning two slabs; one block of rows, no more than the SMs: a batch's group
    /// of 16 warps, two slabs (one turn) each.</summary>
    [Fact]
    public void Batch_FourBitAsymmetricG256_M16() => CheckBatch<B4G256A>(rows: 32, cols: 4096, m: 16, warps: 16);

    /// <summary>Batches of 2-bit codes (each word and the word shifted down by 2 as two words of two positions per byte):
    /// M = 5, groups of one unit (a unit pair's two groups apart), 72 rows (groups of 4 warps), K = 960 pads to 4 slabs of
    /// 256 and ends inside a unit.</summary>
    [Fact]
    public void Batch_TwoBitAsymmetricG64_M5_PaddedK() => CheckBatch<B2G64A>(rows: 72, cols: 960, m: 5, warps: 4);

    /// <summary>M = 12 over 2-bit codes in groups of one unit: both groups of x rows, each unit flushed on its own (the
    /// two units of an x block share x's scale but not the weights' group constants).</summary>
    [Fact]
    public void Batch_TwoBitAsymmetricG64_M12() => CheckBatch<B2G64A>(rows: 40, cols: 1280, m: 12, warps: 8);

    /// <summary>M = 16 over 2-bit symmetric codes (zero point 2) in groups of two units, 18 slabs: several turns per warp.</summary>
    [Fact]
    public void Batch_TwoBitSymmetricG128_M16() => CheckBatch<B2G128S>(rows: 40, cols: 4608, m: 16, warps: 8);

    /// <summary>Batches of 3-bit codes (third bits merged into the low bits' bytes, both parities of each third-bit word):
    /// M = 16, 72 rows (groups of 4 warps), K = 2432 pads to 10 slabs (the last unit pair padding), groups of two units.</summary>
    [Fact]
    public void Batch_ThreeBitAsymmetricG128_M16_PaddedK() => CheckBatch<B3G128A>(rows: 72, cols: 2432, m: 16, warps: 4);

    /// <summary>3-bit per-channel symmetric (zero point 4), M = 3, padded K; one block: 16 warps, of which the first two
    /// have a slab.</summary>
    [Fact]
    public void Batch_ThreeBitPerChannelSymmetric_M3() => CheckBatch<B3GPCS>(rows: 24, cols: 352, m: 3, warps: 16);

    /// <summary>8-bit codes (bytes straight into the mma), decode: per-channel symmetric (zero point 128), K = 992 pads to
    /// 16 slabs of 64, two per warp (one unit pair each).</summary>
    [Fact]
    public void EightBitPerChannelSymmetric_PaddedK() => Check<B8GPCS>(rows: 40, cols: 992, warps: 8);

    /// <summary>8-bit decode over 23 slabs, 72 rows (three blocks: groups of 4 warps) with 6 slabs each but the last's 5:
    /// its last unit pair has no second unit (its load is off and it multiplies x's zeros); groups of one unit.</summary>
    [Fact]
    public void EightBitAsymmetricG64_FourWarps_OddSlabs() => Check<B8G64A>(rows: 72, cols: 1472, warps: 4);

    /// <summary>8-bit batch, M = 5, groups of one unit (a pair's two units flushed apart), K = 960 (15 slabs: warps of 4,
    /// the last 3).</summary>
    [Fact]
    public void Batch_EightBitAsymmetricG64_M5_OddSlabs() => CheckBatch<B8G64A>(rows: 72, cols: 960, m: 5, warps: 4);

    /// <summary>8-bit batch, M = 16, per-channel asymmetric: group constants loaded once per warp; K = 1344 is 21 slabs,
    /// warps of 4 (the sixth 1, the last two none).</summary>
    [Fact]
    public void Batch_EightBitPerChannelAsymmetric_M16() => CheckBatch<B8GPCA>(rows: 40, cols: 1344, m: 16, warps: 8);

    /// <summary>8-bit batch, M = 9 (the second group of x rows one row), groups of a unit pair; one block: 16 warps of
    /// two slabs.</summary>
    [Fact]
    public void Batch_EightBitAsymmetricG128_M9() => CheckBatch<B8G128A>(rows: 32, cols: 2048, m: 9, warps: 16);

    /// <summary>8-bit symmetric codes against activations of one sign (as a SiLU-gated or post-norm input can be), where
    /// 128·Σ q dwarfs a unit pair's result: the kernel takes the zero point off its exact integer sums, so that only the
    /// f32 flush and sums round. Bound: 5e-7 of Σ |w·x| per row, x rounded as the kernel rounds it (measured 1.0–1.2e-7;
    /// with the zero point subtracted in f32 after scaling, as the narrower codes' flush does, 2.1–6.0e-7).</summary>
    [Fact]
    public void EightBit_OneSignedActivations_KeepTheZeroPointOutOfTheRounding()
    {
        const int rows = 40, cols = 2048, m = 2;
        var accelerator = kernels.Accelerator;
        var random = TestData.CreateRandom(nameof(EightBit_OneSignedActivations_KeepTheZeroPointOutOfTheRounding));
        var matrix = QuantizedMatrix<B8GPCS>.Quantize(TestData.Weights(random, rows, cols, cols), rows, cols);
        var w = matrix.Dequantize();
        var packed = MmaPackedWeights.Create(matrix);
        var x = new float[m * cols];
        for (int i = 0; i < x.Length; i++)
        {
            x[i] = (float)(0.5 + Math.Abs(TestData.Gaussian(random)));
        }

        using var codes = accelerator.Allocate1D(packed.Packed);
        using var scales = accelerator.Allocate1D(packed.Scales);
        using var zeros = accelerator.Allocate1D<uint>(1);
        using var input = accelerator.Allocate1D(x);
        using var output = accelerator.Allocate1D<float>(m * rows);
        using var scratch = accelerator.Allocate1D<uint>(Int8ActivationGemv.ScratchLength(packed, m));
        kernels.Gemv.Run(packed, codes.View, scales.View, zeros.View, input.View, scratch.View, output.View, m);
        accelerator.Synchronize();
        var y = output.GetAsArray1D();
        double worst = 0;
        for (int i = 0; i < m; i++)
        {
            var (rounded, _) = RoundActivations(x.AsSpan(i * cols, cols).ToArray());
            for (int r = 0; r < rows; r++)
            {
                double exact = 0, natural = 0;
                for (int k = 0; k < cols; k++)
                {
                    double product = w[((long)r * cols) + k] * rounded[k];
                    exact += product;
                    natural += Math.Abs(product);
                }

                double error = Math.Abs(y[(i * rows) + r] - exact);
                worst = Math.Max(worst, natural > 0 ? error / natural : error); // a row of zeros must give 0
            }
        }

        Assert.True(worst <= 5e-7, FormattableString.Invariant($"worst |y − exact| / Σ|w·x| = {worst:E2} (bound 5e-7), seed {TestData.RunSeed}"));
    }

    /// <summary>The rule the layer picks the kernel by, on this one-SM accelerator: every batch, 2- and 3-bit decode on any
    /// grid, 4- and 8-bit decode on grids of more row blocks than SMs (a one-SM device has no grid of at most one block per
    /// two SMs, where 4-bit decode would take it too); never past 16 rows, nor groups of 32.</summary>
    [Fact]
    public void Pays_AsMeasured()
    {
        var gemv = kernels.Gemv;
        Assert.Equal(1, kernels.Accelerator.NumMultiprocessors);
        Assert.True(gemv.Pays(B2G64A.Info, 32, 256, 1));
        Assert.True(gemv.Pays(B2G64A.Info, 32, 256, 2)); // one block
        Assert.True(gemv.Pays(B2G64A.Info, 32, 256, 16));
        Assert.True(gemv.Pays(B2G64A.Info, 64, 256, 16));
        Assert.False(gemv.Pays(B2G64A.Info, 64, 256, 17));
        Assert.True(gemv.Pays(B3G128A.Info, 32, 256, 1));
        Assert.True(gemv.Pays(B3G128A.Info, 32, 256, 16));
        Assert.False(gemv.Pays(B3G128A.Info, 64, 256, 17));
        Assert.False(gemv.Pays(B4G128A.Info, 32, 256, 1)); // one block: no more blocks than SMs
        Assert.True(gemv.Pays(B4G128A.Info, 32, 256, 2));
        Assert.True(gemv.Pays(B4G128S.Info, 32, 256, 16));
        Assert.True(gemv.Pays(B4G128A.Info, 33, 256, 1));
        Assert.True(gemv.Pays(B4G128S.Info, 64, 256, 16));
        Assert.False(gemv.Pays(B4G128S.Info, 64, 256, 17));
        Assert.False(gemv.Pays(B4G32A.Info, 64, 256, 1));
        Assert.False(gemv.Pays(B8GPCS.Info, 32, 256, 1));
        Assert.True(gemv.Pays(B8GPCS.Info, 32, 256, 2));
        Assert.True(gemv.Pays(B8GPCS.Info, 64, 256, 1));
        Assert.True(gemv.Pays(B8G128A.Info, 64, 256, 8));
        Assert.False(gemv.Pays(B8GPCS.Info, 64, 256, 17));
        Assert.False(gemv.Pays(B8G32S.Info, 64, 256, 1));
    }

    /// <summary>Groups per row block as measured on an H200's 132 SMs: 16 warps where blocks leave SMs idle (batches: at
    /// most one block per SM; decode: at most one per two), 8 where they fit two per SM, else 4.</summary>
    [Fact]
    public void WarpsFor_AsMeasured()
    {
        Assert.Equal(16, Int8ActivationGemv.WarpsFor(32, 132, batch: false)); // 1024 × K
        Assert.Equal(16, Int8ActivationGemv.WarpsFor(66, 132, batch: false));
        Assert.Equal(8, Int8ActivationGemv.WarpsFor(67, 132, batch: false));
        Assert.Equal(8, Int8ActivationGemv.WarpsFor(128, 132, batch: false)); // 4096 × K
        Assert.Equal(16, Int8ActivationGemv.WarpsFor(128, 132, batch: true));
        Assert.Equal(16, Int8ActivationGemv.WarpsFor(132, 132, batch: true));
        Assert.Equal(8, Int8ActivationGemv.WarpsFor(133, 132, batch: true));
        Assert.Equal(8, Int8ActivationGemv.WarpsFor(256, 132, batch: true)); // 8192 × K
        Assert.Equal(8, Int8ActivationGemv.WarpsFor(264, 132, batch: false));
        Assert.Equal(4, Int8ActivationGemv.WarpsFor(896, 132, batch: true)); // 28672 × K
        Assert.Equal(4, Int8ActivationGemv.WarpsFor(265, 132, batch: false));
    }

    [Fact]
    public void Batch_Unsupported_SaysWhat()
    {
        Assert.True(Int8ActivationGemv.Supports(B2G64A.Info, 256, 2));
        Assert.True(Int8ActivationGemv.Supports(B3G128A.Info, 256, 16));
        Assert.False(Int8ActivationGemv.Supports(B2G64A.Info, 256, 17));
        Assert.False(Int8ActivationGemv.Supports(B2G32A.Info, 256, 2));
        Assert.True(Int8ActivationGemv.Supports(B4G128A.Info, 256, 16));
        Assert.False(Int8ActivationGemv.Supports(B4G128A.Info, 256, 17));
        var packed = MmaPackedWeights.Create(QuantizedMatrix<B2G64A>.Quantize(TestData.Weights(TestData.CreateRandom("x8 batch 2-bit"), 8, 64, 64), 8, 64));
        var accelerator = kernels.Accelerator;
        using var buffer = accelerator.Allocate1D<uint>(4096);
        using var io = accelerator.Allocate1D<float>(1024);
        var e = Assert.Throws<ArgumentException>(() => kernels.Gemv.Run(packed, buffer.View, buffer.View, buffer.View, io.View, buffer.View, io.View, 17));
        Assert.Contains("M = 17 and 2-bit codes", e.Message);
        Assert.Contains("QuantizeActivations = false", e.Message);
    }

    /// <summary>The batch flush's conversions without a conversion instruction agree with the runtime's conversion over
    /// their whole ranges' edges and a fresh sample between: every byte, and |v| &lt; 2^22.</summary>
    [Fact]
    public void ExactFloat_And_ByteFloat_MatchConversion()
    {
        for (uint b = 0; b < 256; b++)
        {
            Assert.Equal((float)b, Int8ActivationGemv.ByteFloat(b));
        }

        const int Limit = (1 << 22) - 1;
        int[] edges = [0, 1, -1, 2, -2, 255, -256, 1 << 21, -(1 << 21), Limit, -Limit, Limit - 1, -Limit + 1];
        foreach (int v in edges)
        {
            Assert.Equal((float)v, Int8ActivationGemv.ExactFloat(v));
        }

        var random = TestData.CreateRandom(nameof(ExactFloat_And_ByteFloat_MatchConversion));
        for (int i = 0; i < 100_000; i++)
        {
            int v = random.Next(-Limit, Limit + 1);
            Assert.True((float)v == Int8ActivationGemv.ExactFloat(v), FormattableString.Invariant($"ExactFloat({v}) = {Int8ActivationGemv.ExactFloat(v)}, seed {TestData.RunSeed}"));
        }
    }

    [Fact]
    public void Unsupported_SaysWhat()
    {
        Assert.False(Int8ActivationGemv.Supports(B2G32A.Info, 256));
        Assert.False(Int8ActivationGemv.Supports(B4G32A.Info, 256));
        Assert.False(Int8ActivationGemv.Supports(B8G32S.Info, 256));
        Assert.True(Int8ActivationGemv.Supports(B8GPCS.Info, 256));
        Assert.True(Int8ActivationGemv.Supports(B8G128A.Info, 256));
        Assert.True(Int8ActivationGemv.Supports(B4G128A.Info, 256));
        Assert.True(Int8ActivationGemv.Supports(B2G128S.Info, 256));
        Assert.True(Int8ActivationGemv.Supports(B3G128A.Info, 256));
        var packed = MmaPackedWeights.Create(QuantizedMatrix<B2G32A>.Quantize(TestData.Weights(TestData.CreateRandom("x8 g32"), 8, 64, 32), 8, 64));
        var accelerator = kernels.Accelerator;
        using var buffer = accelerator.Allocate1D<uint>(packed.Packed.Length);
        using var io = accelerator.Allocate1D<float>(64);
        var e = Assert.Throws<ArgumentException>(() => kernels.Gemv.Run(packed, buffer.View, buffer.View, buffer.View, io.View, buffer.View, io.View));
        Assert.Contains("groups of 32", e.Message);
        Assert.Contains("QuantizeActivations = false", e.Message);

        var supported = MmaPackedWeights.Create(QuantizedMatrix<B2G64A>.Quantize(TestData.Weights(TestData.CreateRandom("x8 g64"), 8, 64, 64), 8, 64));
        using var small = accelerator.Allocate1D<uint>(4);
        e = Assert.Throws<ArgumentException>(() => kernels.Gemv.Run(supported, buffer.View, buffer.View, buffer.View, io.View, small.View, io.View));
        Assert.Contains("ScratchLength", e.Message);
    }

    private void CheckBatch<TScheme>(int rows, int cols, int m, int warps)
        where TScheme : struct, IQuantScheme
        => Check<TScheme>(rows, cols, warps, m);

    /// <summary>Runs <paramref name="m"/> rows of x through the kernel and compares every output with both float64
    /// references. x has a block of 128 zeros (scale 0, every q 0; on K below 256 half a block) in its second row (decode:
    /// its only row), and at M &gt; 1 its last row is on another scale unit by unit.</summary>
    private void Check<TScheme>(int rows, int cols, int warps, int m = 1)
        where TScheme : struct, IQuantScheme
    {
        var accelerator = kernels.Accelerator;
        var random = TestData.CreateRandom(typeof(TScheme).Name + nameof(Int8ActivationGemvTests) + (m == 1 ? string.Empty : m.ToString(System.Globalization.CultureInfo.InvariantCulture)));
        var matrix = QuantizedMatrix<TScheme>.Quantize(TestData.Weights(random, rows, cols, TScheme.Info.IsPerChannel ? cols : TScheme.Info.GroupSize), rows, cols);
        var w = matrix.Dequantize();
        var packed = MmaPackedWeights.Create(matrix);
        Assert.True(Int8ActivationGemv.Supports(TScheme.Info, cols, m));
        Assert.Equal(warps, kernels.Gemv.WarpsOf(packed, Int8ActivationGemv.RunsBatch(packed, m)));
        if (m == 1)
        {
            Assert.True(Int8ActivationGemv.Supports(packed));
        }

        var x = TestData.Activations(random, m * cols);
        if (cols >= 256)
        {
            Array.Clear(x, (Math.Min(1, m - 1) * cols) + 128, 128); // a whole x block: scale 0
        }
        else if (cols >= 128)
        {
            Array.Clear(x, (Math.Min(1, m - 1) * cols) + 64, 64); // half a block
        }

        for (int k = 0; m > 1 && k < cols; k++)
        {
            x[((m - 1) * cols) + k] *= 1 + (k % 7);
        }

        using var codes = accelerator.Allocate1D(packed.Packed);
        using var scales = accelerator.Allocate1D(packed.Scales);
        using var zeros = packed.Zeros.Length > 0 ? accelerator.Allocate1D(packed.Zeros) : accelerator.Allocate1D<uint>(1);
        using var input = accelerator.Allocate1D(x);
        using var output = accelerator.Allocate1D<float>(m * rows);
        output.MemSet(0xFF); // NaN: every element must be written
        using var scratch = accelerator.Allocate1D<uint>(Int8ActivationGemv.ScratchLength(packed, m));
        scratch.MemSet(0xFF);
        if (m == 1)
        {
            kernels.Gemv.Run(packed, codes.View, scales.View, zeros.View, input.View, scratch.View, output.View);
        }
        else
        {
            kernels.Gemv.Run(packed, codes.View, scales.View, zeros.View, input.View, scratch.View, output.View, m);
        }
        accelerator.Synchronize();
        var y = output.GetAsArray1D();

        // The kernel's f32 sums carry code·q and zero·Σq apart until each unit's flush (and positions apart across lanes
        // until the end), so their rounding scales with Σ |scale|·(code + zero)·|q·step| ≤ Σ |scale|·2^(bits+1)·|x rounded|.
        var dims = matrix.Dims;
        for (int i = 0; i < m; i++)
        {
            var row = x.AsSpan(i * cols, cols).ToArray();
            var (rounded, steps) = RoundActivations(row);
            for (int r = 0; r < rows; r++)
            {
                double exact = 0, carried = 0, original = 0, allowed = 0;
                for (int k = 0; k < cols; k++)
                {
                    double weight = w[((long)r * cols) + k];
                    double scale = (double)BitConverter.UInt16BitsToHalf(matrix.Scales[((long)r * dims.GroupsPerRow) + (k / dims.GroupSize)]);
                    exact += weight * rounded[k];
                    carried += Math.Abs(scale) * (1 << (dims.Bits + 1)) * Math.Abs(rounded[k]);
                    original += weight * row[k];
                    allowed += Math.Abs(weight) * steps[k] / 2;
                }

                float got = y[(i * rows) + r];
                string where = FormattableString.Invariant($"{TScheme.Info} [{rows} × {cols}] M = {m}, x row {i}, row {r}: {got} against {exact} (x rounded) and {original} (x), seed {TestData.RunSeed}");
                Assert.True(Math.Abs(got - exact) <= (2e-6 * carried) + 1e-30, where);
                Assert.True(Math.Abs(got - original) <= (allowed * (1 + 1e-5)) + (2e-6 * carried) + 1e-30, where);
            }
        }
    }

    /// <summary>x rounded as <see cref="Int8ActivationGemv"/> documents: per 128 columns, q = round(x · (127 / |x|max)) in
    /// f32, ties to even, times |x|max / 127; also each value's step (|x|max / 127).</summary>
    internal static (double[] Rounded, double[] Steps) RoundActivations(float[] x)
    {
        var rounded = new double[x.Length];
        var steps = new double[x.Length];
        for (int start = 0; start < x.Length; start += 128)
        {
            int end = Math.Min(x.Length, start + 128);
            float max = 0;
            for (int k = start; k < end; k++)
            {
                max = Math.Max(max, Math.Abs(x[k]));
            }

            float inverse = max > 0 ? 127f / max : 0f, step = max / 127f;
            for (int k = start; k < end; k++)
            {
                float scaled = x[k] * inverse;
                rounded[k] = Math.Round(scaled, MidpointRounding.ToEven) * (double)step;
                steps[k] = step;
            }
        }

        return (rounded, steps);
    }

    /// <summary>One CPU accelerator (one SM, groups of up to 16 warps) and one GEMV for the whole class.</summary>
    public sealed class Kernels : IDisposable
    {
        private readonly Cpu32Accelerator cpu = new(Int8ActivationGemv.MaxWarpsPerGroup);

        public Kernels() => Gemv = new Int8ActivationGemv(cpu.Accelerator);

        public Accelerator Accelerator => cpu.Accelerator;

        public Int8ActivationGemv Gemv { get; }

        public void Dispose() => cpu.Dispose();
    }
}

[QuantScheme(Bits = 8, GroupSize = 64, Symmetric = false)]
public partial struct B8G64A;
