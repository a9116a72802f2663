using KernelGen.Generators.Helpers;
using KernelGen.Generators.Models;

namespace KernelGen.Generators;

public sealed partial class QuantSchemeGenerator
{
    internal static partial class Emitter
    {
        private const string Dims = "global::KernelGen.Quantization.QuantDims";
        private const string Fp16ToFloat = "global::KernelGen.Quantization.Fp16.ToFloat";
        private const string KernelArgs = "ArrayView<uint> weights, ArrayView<ushort> scales, ArrayView<uint> zeros";

        /// <summary>Accumulators a chunk's dot product is split over, for instruction-level parallelism.</summary>
        private const int DotAccumulators = 4;

        /// <summary>Output rows per warp in the warp GEMV: each activation chunk read from shared memory serves them all.</summary>
        public const int GemvRowsPerWarp = 4;

        /// <summary>Warps per group of the warp GEMV (fewer where the device allows fewer threads per group).</summary>
        public const int GemvWarpsPerGroup = 8;

        /// <summary>Activation chunks per shared-memory tile of the warp GEMV: 128 × 33 floats = 16.5 KiB. (352-chunk
        /// tiles together with prefetching were 16% slower on an H200: docs/perf/gemv.md, v4.)</summary>
        public const int GemvTileChunks = 128;

        /// <summary>
        /// 2^23 as a float. For an integer c &lt; 2^23, the float whose bits are 0x4B000000 | c is exactly 2^23 + c, so
        /// IntAsFloat(0x4B000000 | code) − (2^23 + zero) is exactly code − zero: one OR and one FADD instead of a
        /// subtraction and an int-to-float conversion, which runs at a quarter of the FADD rate on recent GPUs.
        /// </summary>
        private const string Magic = "8388608f";
        private const string MagicBits = "0x4B000000u";

        private static void WriteKernels(SourceWriter w, SchemeModel m)
        {
            w.Line("#region ILGPU kernels: every loop over a chunk's 32 codes is unrolled here (ILGPU 1.5.3 does not unroll)");
            w.Line();
            w.Line("/// <summary>Threads per group of <see cref=\"GemvSharedKernel\"/>; one group per output row.</summary>");
            w.Line($"public const int GemvSharedThreads = {I(GemvSharedThreads)};");
            w.Line();
            w.Line("/// <summary>Activation rows (M) per thread group of <see cref=\"GemmKernel\"/>.</summary>");
            w.Line($"public const int GemmTileM = {I(GemmTileM)};");
            w.Line();
            w.Line("/// <summary>Output columns (N) per thread group of <see cref=\"GemmKernel\"/>.</summary>");
            w.Line($"public const int GemmTileN = {I(GemmTileN)};");
            w.Line();
            w.Line("/// <summary>Output rows each warp of <see cref=\"GemvWarpKernel\"/> computes.</summary>");
            w.Line($"public const int GemvRowsPerWarp = {I(GemvRowsPerWarp)};");
            w.Line();
            w.Line("/// <summary>Warps per group of <see cref=\"GemvWarpKernel\"/> (at most).</summary>");
            w.Line($"public const int GemvWarpsPerGroup = {I(GemvWarpsPerGroup)};");
            w.Line();
            w.Line("/// <summary>Activation chunks per shared-memory tile of <see cref=\"GemvWarpKernel\"/>.</summary>");
            w.Line($"public const int GemvTileChunks = {I(GemvTileChunks)};");
            w.Line();
            WriteGroupAndZeroHelpers(w, m);
            WriteDotChunk(w, m);
            WriteDequantizeChunk(w, m);
            WriteDequantizeKernel(w, m);
            WriteGemvWarpKernel(w, m);
            WriteGemvSharedKernel(w, m);
            WriteGemmKernel(w, m);
            WriteLoadKernels(w, m);
            w.Line("#endregion");
        }

        /// <summary>The group of a chunk: a shift for fixed group sizes, always 0 per channel.</summary>
        private static string GroupOf(SchemeModel m, string chunk)
        {
            if (m.IsPerChannel)
            {
                return "0";
            }

            int chunksPerGroup = m.GroupSize / ChunkSize;
            int shift = 0;
            while ((1 << shift) < chunksPerGroup)
            {
                shift++;
            }

            return shift == 0 ? chunk : $"{chunk} >> {I(shift)}";
        }

        /// <summary>2^23 + code j as a float, from its bits (see <see cref="Magic"/>).</summary>
        private static string Value(int j, int bits, string prefix)
            => $"Interop.IntAsFloat({Extract(j, bits, prefix)} | {MagicBits})";

        private static string ZeroOf(SchemeModel m, string group, string row)
            => m.Symmetric ? "ZeroPoint" : $"ZeroAt(zeros, dims, {group}, {row})";

        /// <summary>Declares <c>scale</c> and <c>zero</c> of (group, row).</summary>
        private static void WriteScaleAndZero(SourceWriter w, SchemeModel m, string group, string row)
        {
            // Per channel (group "0") a row has exactly one scale.
            string index = group == "0" ? row : $"({row} * dims.GroupsPerRow) + {group}";
            w.Line($"float scale = {Fp16ToFloat}(scales[{index}]);");
            w.Line($"int zero = {ZeroOf(m, group, row)};");
        }

        private static void WriteGroupAndZeroHelpers(SourceWriter w, SchemeModel m)
        {
            if (m.Symmetric)
            {
                return;
            }

            bool straddles = 32 % m.Bits != 0;
            w.Line("/// <summary>The zero code of (group, row): code row · groups + group of the zeros' bit stream.</summary>");
            w.OpenBlock($"private static int ZeroAt(ArrayView<uint> zeros, {Dims} dims, int group, int row)");
            w.Line("int bit = ((row * dims.GroupsPerRow) + group) * Bits;");
            w.Line("int word = bit >> 5;");
            w.Line("int shift = bit & 31;");
            w.Line("uint value = zeros[word] >> shift;");
            if (straddles)
            {
                w.Line("// A " + I(m.Bits) + "-bit code may continue in the next word.");
                w.OpenBlock("if (shift > 32 - Bits)");
                w.Line("value |= zeros[word + 1] << (32 - shift);");
                w.CloseBlock();
            }

            w.Line($"return (int)(value & {Hex(Mask(m))});");
            w.CloseBlock();
            w.Line();
        }

        private static void WriteDotChunk(SourceWriter w, SchemeModel m)
        {
            w.Line("/// <summary>Σ_j (code_j − zero) · x[xi + j] over the 32 codes of the chunk at word <paramref name=\"w\"/>.</summary>");
            w.OpenBlock("private static float DotChunk(ArrayView<uint> weights, int w, ArrayView<float> x, int xi, int zero)");
            WriteWordLoads(w, m.Bits, "weights", "w");
            w.Line($"float magic = {Magic} + zero;");
            w.Line("var xc = x.SubView(xi, ChunkSize); // constant offsets below: one base address per chunk");
            for (int a = 0; a < DotAccumulators; a++)
            {
                w.Line($"float acc{I(a)} = 0f;");
            }

            for (int j = 0; j < ChunkSize; j++)
            {
                w.Line($"acc{I(j % DotAccumulators)} += ({Value(j, m.Bits, "w")} - magic) * xc[{I(j)}];");
            }

            w.Line("return (acc0 + acc1) + (acc2 + acc3);");
            w.CloseBlock();
            w.Line();
        }

        private static void WriteDequantizeChunk(SourceWriter w, SchemeModel m)
        {
            w.Line("/// <summary>Writes scale · (code_j − zero) for the 32 codes of the chunk at word <paramref name=\"w\"/> to destination[d + j].</summary>");
            w.OpenBlock("private static void DequantizeChunk(ArrayView<uint> weights, int w, float scale, int zero, ArrayView<float> destination, int d)");
            WriteWordLoads(w, m.Bits, "weights", "w");
            w.Line($"float magic = {Magic} + zero;");
            w.Line("var dc = destination.SubView(d, ChunkSize);");
            for (int j = 0; j < ChunkSize; j++)
            {
                w.Line($"dc[{I(j)}] = scale * ({Value(j, m.Bits, "w")} - magic);");
            }

            w.CloseBlock();
            w.Line();
        }

        private static void WriteDequantizeKernel(SourceWriter w, SchemeModel m)
        {
            w.Line("/// <summary>One thread per chunk: output[row · cols + k] = scale · (code − zero). Launch over rows · cols/32 indices.</summary>");
            w.OpenBlock($"public static void DequantizeKernel(Index1D index, {KernelArgs}, ArrayView<float> output, {Dims} dims)");
            w.Line("int row = index / dims.ChunksPerRow;");
            w.Line("int chunk = index - (row * dims.ChunksPerRow);");
            w.Line($"int group = {GroupOf(m, "chunk")};");
            WriteScaleAndZero(w, m, "group", "row");
            w.Line("DequantizeChunk(weights, index * WordsPerChunk, scale, zero, output, (row * dims.Cols) + (chunk * ChunkSize));");
            w.CloseBlock();
            w.Line();
        }

        /// <summary>The chunk loop shared by both GEMV variants; per channel, scale and zero are hoisted out of it.</summary>
        private static void WriteGemvRowLoop(SourceWriter w, SchemeModel m, string first, string stride)
        {
            w.Line("float acc = 0f;");
            if (m.IsPerChannel)
            {
                w.Line("// Per channel: one scale and zero for the whole row, applied once after the loop.");
                WriteScaleAndZero(w, m, "0", "row");
            }

            w.OpenBlock($"for (int chunk = {first}; chunk < dims.ChunksPerRow; chunk += {stride})");
            w.Line("int w = ((row * dims.ChunksPerRow) + chunk) * WordsPerChunk;");
            if (m.IsPerChannel)
            {
                w.Line("acc += DotChunk(weights, w, x, chunk * ChunkSize, zero);");
            }
            else
            {
                w.Line($"int group = {GroupOf(m, "chunk")};");
                WriteScaleAndZero(w, m, "group", "row");
                w.Line("acc += scale * DotChunk(weights, w, x, chunk * ChunkSize, zero);");
            }

            w.CloseBlock();
            if (m.IsPerChannel)
            {
                w.Line("acc *= scale;");
            }
        }

        private static void WriteGemvWarpKernel(SourceWriter w, SchemeModel m)
        {
            int rows = GemvRowsPerWarp;
            w.Line("/// <summary>");
            w.Line("/// y[row] = Σ_k W[row, k] · x[k] (decode, M = 1). Each warp computes GemvRowsPerWarp rows; the group stages x");
            w.Line("/// one tile at a time in shared memory (33 floats per 32-value chunk, so that lanes reading consecutive chunks");
            w.Line("/// hit different banks), each lane reads a chunk's 32 activations once and uses them for all the warp's rows,");
            w.Line("/// then a warp-shuffle reduction. Needs sub-groups (CUDA, ILGPU's CPU accelerator). Launch with groups of");
            w.Line("/// whole warps and ⌈rows / (warps per group · GemvRowsPerWarp)⌉ groups.");
            w.Line("/// </summary>");
            w.OpenBlock($"public static void GemvWarpKernel({KernelArgs}, ArrayView<float> x, ArrayView<float> y, {Dims} dims)");
            w.Line("var xTile = SharedMemory.Allocate<float>(GemvTileChunks * (ChunkSize + 1));");
            w.Line("int rowBase = ((Grid.IdxX * (Group.DimX / Warp.WarpSize)) + Warp.WarpIdx) * GemvRowsPerWarp;");
            for (int r = 0; r < rows; r++)
            {
                w.Line($"float acc{I(r)} = 0f;");
            }

            w.Line("// Rows past the end are clamped to the last row and their sums never stored: the loop below has no");
            w.Line("// per-row branches, so the loads of all the warp's rows can be in flight together.");
            for (int r = 0; r < rows; r++)
            {
                w.Line($"int row{I(r)} = rowBase + {I(r)} < dims.Rows ? rowBase + {I(r)} : dims.Rows - 1;");
            }

            if (m.IsPerChannel)
            {
                w.Line("// Per channel: one scale and zero per row, for the whole row.");
                for (int r = 0; r < rows; r++)
                {
                    w.Line($"float scale{I(r)} = {Fp16ToFloat}(scales[row{I(r)}]);");
                    w.Line($"float magic{I(r)} = {Magic} + {ZeroOf(m, "0", $"row{I(r)}")};");
                }
            }

            w.OpenBlock("for (int tile = 0; tile < dims.ChunksPerRow; tile += GemvTileChunks)");
            w.Line("int tileChunks = dims.ChunksPerRow - tile < GemvTileChunks ? dims.ChunksPerRow - tile : GemvTileChunks;");
            w.Line("// Stage the tile's activations, coalesced across the whole group.");
            w.OpenBlock("for (int i = Group.IdxX; i < tileChunks * ChunkSize; i += Group.DimX)");
            w.Line("xTile[((i >> 5) * (ChunkSize + 1)) + (i & 31)] = x[(tile * ChunkSize) + i];");
            w.CloseBlock();
            w.Line("Group.Barrier(); // wait for the whole tile");
            w.OpenBlock("if (rowBase < dims.Rows)");
            w.OpenBlock("for (int c = Warp.LaneIdx; c < tileChunks; c += Warp.WarpSize)");
            w.Line("int chunk = tile + c;");
            w.Line("var xs = xTile.SubView(c * (ChunkSize + 1), ChunkSize);");
            for (int j = 0; j < ChunkSize; j++)
            {
                w.Line($"float x{I(j)} = xs[{I(j)}];");
            }

            if (!m.IsPerChannel)
            {
                w.Line($"int group = {GroupOf(m, "chunk")};");
            }

            w.Line("// Every row's words, scale and zero first, then the arithmetic.");
            for (int r = 0; r < rows; r++)
            {
                string rr = I(r);
                w.Line($"int r{rr}w = ((row{rr} * dims.ChunksPerRow) + chunk) * WordsPerChunk;");
                for (int i = 0; i < m.Bits; i++)
                {
                    w.Line($"uint r{rr}w{I(i)} = weights[{(i == 0 ? $"r{rr}w" : $"r{rr}w + {I(i)}")}];");
                }

                if (!m.IsPerChannel)
                {
                    w.Line($"float scale{rr} = {Fp16ToFloat}(scales[(row{rr} * dims.GroupsPerRow) + group]);");
                    w.Line($"float magic{rr} = {Magic} + {ZeroOf(m, "group", $"row{rr}")};");
                }
            }

            for (int r = 0; r < rows; r++)
            {
                string rr = I(r);
                for (int a = 0; a < DotAccumulators; a++)
                {
                    w.Line($"float d{rr}{I(a)} = 0f;");
                }

                for (int j = 0; j < ChunkSize; j++)
                {
                    w.Line($"d{rr}{I(j % DotAccumulators)} += ({Value(j, m.Bits, $"r{rr}w")} - magic{rr}) * x{I(j)};");
                }

                string sum = $"(d{rr}0 + d{rr}1) + (d{rr}2 + d{rr}3)";
                w.Line(m.IsPerChannel ? $"acc{rr} += {sum};" : $"acc{rr} += scale{rr} * ({sum});");
            }

            w.CloseBlock();
            w.CloseBlock();
            w.Line("Group.Barrier(); // wait until every warp is done with the tile before the next one overwrites it");
            w.CloseBlock();
            w.Line();
            w.OpenBlock("for (int offset = Warp.WarpSize / 2; offset > 0; offset >>= 1)");
            for (int r = 0; r < rows; r++)
            {
                w.Line($"acc{I(r)} += Warp.ShuffleDown(acc{I(r)}, offset);");
            }

            w.CloseBlock();
            w.Line();
            w.OpenBlock("if (Warp.IsFirstLane)");
            for (int r = 0; r < rows; r++)
            {
                w.OpenBlock($"if (rowBase + {I(r)} < dims.Rows)");
                w.Line($"y[rowBase + {I(r)}] = " + (m.IsPerChannel ? $"scale{I(r)} * acc{I(r)};" : $"acc{I(r)};"));
                w.CloseBlock();
            }

            w.CloseBlock();
            w.CloseBlock();
            w.Line();
        }

        private static void WriteGemvSharedKernel(SourceWriter w, SchemeModel m)
        {
            w.Line("/// <summary>");
            w.Line("/// The same GEMV for devices without sub-groups (e.g. PoCL): one group of <see cref=\"GemvSharedThreads\"/>");
            w.Line("/// threads per output row and a shared-memory tree reduction. Launch with exactly rows groups.");
            w.Line("/// </summary>");
            w.OpenBlock($"public static void GemvSharedKernel({KernelArgs}, ArrayView<float> x, ArrayView<float> y, {Dims} dims)");
            w.Line("var partial = SharedMemory.Allocate<float>(GemvSharedThreads);");
            w.Line("int row = Grid.IdxX;");
            w.Line("int thread = Group.IdxX;");
            WriteGemvRowLoop(w, m, "thread", "GemvSharedThreads");
            w.Line();
            w.Line("partial[thread] = acc;");
            w.Line("Group.Barrier(); // wait for every thread's partial sum");
            for (int half = GemvSharedThreads / 2; half >= 1; half /= 2)
            {
                w.OpenBlock($"if (thread < {I(half)})");
                w.Line($"partial[thread] += partial[thread + {I(half)}];");
                w.CloseBlock();
                if (half > 1)
                {
                    w.Line($"Group.Barrier(); // wait for the {I(half)} sums of this level before the next level reads them");
                }
            }

            w.Line();
            w.OpenBlock("if (thread == 0)");
            w.Line("y[row] = partial[0];");
            w.CloseBlock();
            w.CloseBlock();
            w.Line();
        }

        private static void WriteGemmKernel(SourceWriter w, SchemeModel m)
        {
            int threads = GemmTileM * GemmTileN;
            int stagesPerThread = GemmTileM * ChunkSize / threads;
            w.Line("/// <summary>");
            w.Line("/// y[i, n] = Σ_k x[i, k] · W[n, k] for i &lt; m (prefill). A group of GemmTileN × GemmTileM threads computes one");
            w.Line("/// output each; K is walked one chunk at a time: activations and the dequantized weight chunks are staged in");
            w.Line("/// shared memory, so each packed word is read once per tile. Launch with (⌈rows/GemmTileN⌉, ⌈m/GemmTileM⌉) groups.");
            w.Line("/// </summary>");
            w.OpenBlock($"public static void GemmKernel({KernelArgs}, ArrayView<float> x, ArrayView<float> y, {Dims} dims, int m)");
            w.Line("// Activations [GemmTileM][32] and dequantized weights [GemmTileN][33]. The padding column puts the");
            w.Line("// GemmTileN weight rows read at one k in different banks.");
            w.Line("var xTile = SharedMemory.Allocate<float>(GemmTileM * ChunkSize);");
            w.Line("var wTile = SharedMemory.Allocate<float>(GemmTileN * (ChunkSize + 1));");
            w.Line("int tx = Group.IdxX; // output column within the tile");
            w.Line("int ty = Group.IdxY; // activation row within the tile");
            w.Line("int thread = (ty * GemmTileN) + tx;");
            w.Line("int rowBase = Grid.IdxY * GemmTileM;");
            w.Line("int n = (Grid.IdxX * GemmTileN) + tx;");
            w.Line("float acc = 0f;");
            w.OpenBlock("for (int chunk = 0; chunk < dims.ChunksPerRow; chunk++)");
            w.Line($"// Stage GemmTileM × 32 activations, {I(stagesPerThread)} per thread; rows past m read as 0.");
            for (int s = 0; s < stagesPerThread; s++)
            {
                string i = "i" + I(s);
                string r = "r" + I(s);
                w.Line($"int {i} = " + (s == 0 ? "thread;" : $"thread + {I(s * threads)};"));
                w.Line($"int {r} = rowBase + ({i} >> 5);");
                w.Line($"xTile[{i}] = {r} < m ? x[({r} * dims.Cols) + (chunk * ChunkSize) + ({i} & 31)] : 0f;");
            }

            w.Line("// The first row of threads expands one weight chunk each. A column past the last row is left stale:");
            w.Line("// it feeds only outputs that are never written.");
            w.OpenBlock("if (ty == 0 && n < dims.Rows)");
            w.Line($"int group = {GroupOf(m, "chunk")};");
            WriteScaleAndZero(w, m, "group", "n");
            w.Line("DequantizeChunk(weights, ((n * dims.ChunksPerRow) + chunk) * WordsPerChunk, scale, zero, wTile, tx * (ChunkSize + 1));");
            w.CloseBlock();
            w.Line("Group.Barrier(); // wait for both tiles to be staged");
            w.Line("int xs = ty * ChunkSize;");
            w.Line("int ws = tx * (ChunkSize + 1);");
            for (int j = 0; j < ChunkSize; j++)
            {
                string plus = j == 0 ? string.Empty : " + " + I(j);
                w.Line($"acc += xTile[xs{plus}] * wTile[ws{plus}];");
            }

            w.Line("Group.Barrier(); // wait until every thread is done with the tiles before the next chunk overwrites them");
            w.CloseBlock();
            w.Line();
            w.OpenBlock("if (rowBase + ty < m && n < dims.Rows)");
            w.Line("y[((rowBase + ty) * dims.Rows) + n] = acc;");
            w.CloseBlock();
            w.CloseBlock();
            w.Line();
        }

        private static void WriteLoadKernels(SourceWriter w, SchemeModel m)
        {
            const string Views = "ArrayView<uint>, ArrayView<ushort>, ArrayView<uint>";
            w.Line("/// <summary>Compiles this scheme's kernels for <paramref name=\"accelerator\"/>, with the GEMV variant given.</summary>");
            w.OpenBlock("public static global::KernelGen.Backends.QuantKernels LoadKernels(Accelerator accelerator, global::KernelGen.Backends.GemvReduction reduction)");
            w.Line("var gemv = reduction == global::KernelGen.Backends.GemvReduction.WarpShuffle");
            w.Line($"    ? accelerator.LoadStreamKernel<{Views}, ArrayView<float>, ArrayView<float>, {Dims}>(GemvWarpKernel)");
            w.Line($"    : accelerator.LoadStreamKernel<{Views}, ArrayView<float>, ArrayView<float>, {Dims}>(GemvSharedKernel);");
            w.Line("return new global::KernelGen.Backends.QuantKernels(");
            w.Line("    Info,");
            w.Line("    reduction,");
            w.Line($"    accelerator.LoadAutoGroupedStreamKernel<Index1D, {Views}, ArrayView<float>, {Dims}>(DequantizeKernel),");
            w.Line("    gemv,");
            w.Line($"    accelerator.LoadStreamKernel<{Views}, ArrayView<float>, ArrayView<float>, {Dims}, int>(GemmKernel),");
            w.Line("    new global::KernelGen.Backends.KernelGeometry(GemvSharedThreads, GemmTileM, GemmTileN, GemvRowsPerWarp, GemvWarpsPerGroup));");
            w.CloseBlock();
        }
    }
}
