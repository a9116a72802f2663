using ILGPU;
using ILGPU.Runtime;

namespace KernelGen.Backends;

/// <summary>
/// The warpgroup form of the GEMM (compute capability 9.0: <c>wgmma.mma_async</c>). A block is two warpgroups (eight
/// warps) on four weight blocks (128 weight rows) against 128 activation rows: warp w decodes tiles a, b (w even) or
/// c, d (w odd) of weight block w / 2, a 16-row A operand in registers, and each warpgroup multiplies its four operands
/// (64 × 16) by the k-block's 128 × 16 x, staged once for both in shared memory in the canonical K-major layout, with
/// one <c>wgmma.m64n128k16</c>. Each warp decodes half of what a warp of the mma.sync form decodes per k-block for twice
/// the activation rows, and loads no B fragments at all. (docs/perf/gemm.md, session 9.)
/// </summary>
public sealed partial class TensorCoreGemm
{
    /// <summary>Activation rows per warpgroup block (two 64-row blocks of staged x).</summary>
    public const int GroupRowsM = 128;

    /// <summary>k-block slots of the shared x ring, a power of two (cp.async runs up to RingSlots k-blocks ahead of the
    /// k-block being multiplied).</summary>
    internal const int RingSlots = 8;

    /// <summary>k-blocks per barrier of the warpgroup form: half the ring, whose other half is being filled meanwhile
    /// (each barrier follows a drain of the warpgroup's mmas, so the k-block just multiplied frees its slot too; gemm.md,
    /// v25).</summary>
    internal const int SyncBlocks = RingSlots / 2;

    /// <summary>Warpgroups per block: each on its own 64 weight rows, both reading the same x ring (so L2 serves each
    /// k-block of x once per 128 weight rows, not per 64: gemm.md, v20).</summary>
    public const int WarpGroups = 2;

    /// <summary>Warps per block of the warpgroup form.</summary>
    public const int GroupWarps = 4 * WarpGroups;

    /// <summary>Weight blocks (of four 8-row tiles) per warpgroup block: two per warpgroup.</summary>
    internal const int GroupWeightBlocks = 2 * WarpGroups;

    /// <summary>
    /// Where groups end, as a kernel specialization (<see cref="WarpGroupKernel"/>'s TGroups, the value's
    /// <see cref="TensorCoreGemv.ConstantType"/>): <see cref="TensorCoreGemv.C0"/>
    /// when a group spans whole slabs (per-channel included; checked once per slab), C2, C4 or C8 when a group of that many
    /// k-blocks divides a slab (its ends are fixed k-blocks of the slab: no check at all), and
    /// <see cref="TensorCoreGemv.CRuntime"/> otherwise (a counter per k-block). The counter per k-block and the moves
    /// around its branch were ~12 of the ~58 instructions per k-block and warp (H100 SASS, gemm.md session 10).
    /// </summary>
    internal static int GroupEnds(int bits, int groupBlocks)
    {
        int perSlab = MmaPackedWeights.BlocksPerSlabOf(bits);
        return groupBlocks % perSlab == 0 ? 0 : groupBlocks is 2 or 4 or 8 && perSlab % groupBlocks == 0 ? groupBlocks : -1;
    }

    /// <summary>
    /// Two warpgroups: weight blocks 4·Grid.IdxY … + 3 against activation rows 128·Grid.IdxX … + 127, over slab share
    /// Grid.IdxZ. Per k-block: 4 decodes per warp, one wgmma per warpgroup, and one 16-byte x quad per thread copied
    /// into the ring ahead of use; per <see cref="SyncBlocks"/> k-blocks one barrier; the weights are loaded a slab ahead
    /// and the next group's scale and zero words a group ahead. Group ends as <typeparamref name="TGroups"/> says
    /// (<see cref="GroupEnds"/>).
    /// </summary>
    internal static void WarpGroupKernel<TMma, TBits, TGroups>(ArrayView<uint> packed, ArrayView<uint> scales, ArrayView<uint> zeros, ArrayView<uint> fragments, ArrayView<float> y, TensorCoreGemmShape s, int splits, ulong xAddress)
        where TMma : struct, TensorCoreMma.IMma
        where TBits : struct, TensorCoreGemv.IConstant
        where TGroups : struct, TensorCoreGemv.IConstant
    {
        int bits = default(TBits).Value, blocksPerSlab = MmaPackedWeights.BlocksPerSlabOf(bits);
        int lane = Warp.LaneIdx, g = lane >> 2, t = lane & 3;
        int perSplit = (s.Slabs + splits - 1) / splits;
        int slabStart = System.Math.Min(s.Slabs, Grid.IdxZ * perSplit), slabEnd = System.Math.Min(s.Slabs, slabStart + perSplit);
        if (slabStart >= slabEnd)
        {
            return; // a split with no slabs (the whole block): its y stays as zeroed
        }

        // Warps past the last weight block decode the last one again (the warpgroup's mma needs all four) and store
        // nothing.
        int pair = Warp.WarpIdx & 1, blocks = s.Tiles / MmaPackedWeights.TileBlock, own = (Grid.IdxY * GroupWeightBlocks) + (Warp.WarpIdx >> 1);
        int block = System.Math.Min(own, blocks - 1);

        var mma = default(TMma);
        mma.Allocate();
        mma.GroupBegin();
        var st = default(WarpGroupState);
        int kb = slabStart * blocksPerSlab;
        st.Init<TMma, TGroups>(scales, zeros, s, g, block, pair, kb);

        // x: thread i copies quad i of the k-block (quad (tile · KBlocks + kb) · 32 + lane of tile i / 32 of the 128
        // rows: the first 64-row block, then the second) with cp.async into a ring of RingSlots k-block slots of 256 quads
        // (the 128 rows' canonical layout), up to RingSlots k-blocks ahead, SyncBlocks k-blocks per barrier. wgmma reads
        // the slots through the async proxy; its descriptor addresses them (LBO 128 bytes between the k-halves, SBO 256
        // between 8-row groups, no swizzle), the k-block's slot at quad Stage.
        var stage = SharedMemory.Allocate<uint>(RingSlots * 256 * 4).Cast<TensorCoreGemv.Quad>();
        var xq = fragments.Cast<TensorCoreGemv.Quad>();
        int tid = Group.IdxX;
        st.Thread = tid;
        st.XAddress = xAddress;
        st.XAt = ((((Grid.IdxX * (GroupRowsM / 16)) + (tid >> 5)) * s.KBlocks) + kb) * 32 + (tid & 31);
        st.SharedBase = mma.SharedBase();
        st.Descriptor = (8UL << 16) | (16UL << 32) | ((st.SharedBase >> 4) & 0x3FFF);
        for (int ahead = 0; ahead < RingSlots; ahead++)
        {
            st.Fetch(mma, stage, xq);
        }

        mma.WaitCopies(RingSlots - SyncBlocks); // the first SyncBlocks k-blocks' copies
        mma.FenceAsync();
        Group.Barrier();

        // Weights: one 16-byte load per tile and slab, a slab ahead (the last slab loads itself again). (Through
        // ld.global.nc instead of ILGPU's generic loads: 8-bit per-channel 25 % slower at M = 2048; gemm.md, v19b.)
        var quads = packed.Cast<TensorCoreGemv.Quad>();
        int step = s.Slabs * 32;
        int ia = ((((block * MmaPackedWeights.TileBlock) + (2 * pair)) * s.Slabs) + slabStart) * 32 + lane;
        var low = quads[ia];
        var high = quads[ia + step];

        // 3-bit codes: their third bits, one 8-byte load per tile and slab at the same index in their plane.
        bool third = bits == 3;
        var highs = third ? packed.Cast<Duo>().SubView(MmaPackedWeights.HighPlanePairs(s.Tiles, s.Slabs)) : default;
        Duo lowBits = third ? highs[ia] : default, highBits = third ? highs[ia + step] : default;
        for (int slab = slabStart; slab < slabEnd; slab++)
        {
            int next = slab + 1 < slabEnd ? ia + 32 : ia;
            var nextLow = quads[next];
            var nextHigh = quads[next + step];
            Duo nextLowBits = third ? highs[next] : default, nextHighBits = third ? highs[next + step] : default;
            // The group words that a group opened at the last slab's end left to load: after the slab's first word where
            // no group ends inside that word, so that nothing in the word's decode waits on the load's registers
            // (gemm.md, v22b); before it otherwise.
            bool afterFirstWord = WordsAfterFirstWord(bits, default(TGroups).Value);
            if (!afterFirstWord && default(TGroups).Value > 0)
            {
                st.PrefetchPending<TGroups>(scales, zeros);
            }

            st.Word<TMma, TBits, TGroups>(mma, xq, stage, scales, zeros, low.X, high.X, 0, lowBits.X, highBits.X);
            if (afterFirstWord)
            {
                st.PrefetchPending<TGroups>(scales, zeros);
            }

            st.Word<TMma, TBits, TGroups>(mma, xq, stage, scales, zeros, low.Y, high.Y, 1, lowBits.X, highBits.X);
            st.Word<TMma, TBits, TGroups>(mma, xq, stage, scales, zeros, low.Z, high.Z, 2, lowBits.Y, highBits.Y);
            st.Word<TMma, TBits, TGroups>(mma, xq, stage, scales, zeros, low.W, high.W, 3, lowBits.Y, highBits.Y);
            if (default(TGroups).Value == 0)
            {
                st.SlabEnd<TMma>(bits, blocksPerSlab);
            }

            low = nextLow;
            high = nextHigh;
            lowBits = nextLowBits;
            highBits = nextHighBits;
            ia = next;
        }

        // D: rows g of the warp's first tile (P) and second (Q); pair i: activation rows 8i + 2t, + 1.
        int row = (((block * MmaPackedWeights.TileBlock) + (2 * pair)) * MmaPackedWeights.TileRows) + g, act = (Grid.IdxX * GroupRowsM) + (2 * t);
        WarpGroupState.Store(mma, y, s, splits > 1, own < blocks, row, act);
    }

    /// <summary>Whether the group words left to load at a slab's top (<see cref="WarpGroupState.PrefetchPending"/>) may
    /// wait until after the slab's first word: where groups end with slabs (<paramref name="groupEnds"/> 0), or at fixed
    /// k-blocks past that word's last; not where they end at a counter (nothing is left to load then).</summary>
    internal static bool WordsAfterFirstWord(int bits, int groupEnds)
        => groupEnds == 0 || groupEnds > 8 / MmaPackedWeights.WordBitsOf(bits);

    /// <summary>A scale or zero-point word pair: this lane's row of the warp's two tiles.</summary>
    internal struct Duo
    {
        public uint X, Y;
    }

    /// <summary>A warp's running state in the warpgroup form (the accumulators are the mma's,
    /// <see cref="TensorCoreMma.IMma.GroupBegin"/>): the open group's decode constants for rows g of its two tiles, the
    /// group words' stream, and the x positions.</summary>
    private struct WarpGroupState
    {
        public PairDecode Open;

        // The group words' stream, in word pairs (the next group's raw words, where they are, k-blocks left in the open
        // group).
        public GroupWords<Duo> Words;

        // This thread's x copies: where the next is, the slot being read (Stage) and the next to fill (Fill), in quads;
        // the addresses of x and of the ring, and the ring's descriptor without the slot's offset.
        public int XAt, Thread, Stage, Fill;

        // Where groups end with slabs: 1 when the next group's words are still to be loaded (PrefetchPending, in the
        // next slab).
        public int Pending;
        public ulong XAddress, Descriptor;
        public uint SharedBase;

        /// <summary>Starts the copy of this thread's quad of the next k-block into slot Fill, as one group.</summary>
        public void Fetch<TMma>(TMma mma, ArrayView<TensorCoreGemv.Quad> stage, ArrayView<TensorCoreGemv.Quad> xq)
            where TMma : struct, TensorCoreMma.IMma
        {
            mma.CopyAsync(stage, Fill + Thread, SharedBase, xq, XAt, XAddress);
            mma.CommitCopies();
            XAt += 32;
            Fill = (Fill + 256) & ((RingSlots * 256) - 1);
        }

        /// <summary>Opens the group of k-block <paramref name="kb"/>. The words of the group after it are loaded here
        /// only where groups end at a counter (<see cref="GroupEnds"/> −1); otherwise in the first slab
        /// (<see cref="PrefetchPending"/>), as they are in the next slab whenever a group opens at a slab's end.</summary>
        /// <remarks>Loaded at the end of the slab, next to the group's opening, the words landed in registers that ptxas
        /// then copied into the loop-carried ones at the bottom of the slab loop, a few instructions after the load: the
        /// copy waited for the load once per slab, 11 % of the stall samples of 4-bit g128 on 4096² at M = 2048 (gemm.md,
        /// session 23).</remarks>
        public void Init<TMma, TGroups>(ArrayView<uint> scales, ArrayView<uint> zeros, TensorCoreGemmShape s, int g, int block, int pair, int kb)
            where TMma : struct, TensorCoreMma.IMma
            where TGroups : struct, TensorCoreGemv.IConstant
        {
            Words.Start(s, g, block, kb, 2, pair);
            Words.Prefetch(scales, zeros, 2);
            Take<TMma>(s.Bits);
            int groupEnds = default(TGroups).Value;
            if (groupEnds < 0)
            {
                Words.Prefetch(scales, zeros, 2);
            }

            Pending = groupEnds == 0 ? 1 : 0;
        }

        /// <summary>Once per slab, at its top or after its first word (<see cref="WordsAfterFirstWord"/>; where groups
        /// do not end at a counter): loads the next group's words. Where groups end at fixed k-blocks, one ends with
        /// every slab (they divide it), so every slab loads them; where groups end with slabs, only a slab after one that
        /// opened a group (or after <see cref="Init{TMma, TGroups}"/>) does.</summary>
        public void PrefetchPending<TGroups>(ArrayView<uint> scales, ArrayView<uint> zeros)
            where TGroups : struct, TensorCoreGemv.IConstant
        {
            if (default(TGroups).Value > 0 || Pending != 0)
            {
                Words.Prefetch(scales, zeros, 2);
                Pending = 0;
            }
        }

        private void Take<TMma>(int bits)
            where TMma : struct, TensorCoreMma.IMma
            => Open.Take<TMma>(Words.NextScale.X, Words.NextScale.Y, Words.NextZero.X, Words.NextZero.Y, Words.ScaleShift, Words.ZeroShift, Words.Symmetric != 0, 1 << (bits - 1));

        /// <summary>Opens the next group and prefetches the one after it (where groups end at a counter).</summary>
        private void NextGroup<TMma>(ArrayView<uint> scales, ArrayView<uint> zeros, int bits)
            where TMma : struct, TensorCoreMma.IMma
        {
            Take<TMma>(bits);
            Words.Prefetch(scales, zeros, 2);
        }

        /// <summary>After a slab, when groups span whole slabs: the k-blocks left in the open group (a multiple of the
        /// slab's, <see cref="GroupWords{TWord}.Start"/> counting from the split's first slab) fall by a slab's, and the
        /// next group opens when none are left (its successor's words loaded in the next slab).</summary>
        public void SlabEnd<TMma>(int bits, int blocksPerSlab)
            where TMma : struct, TensorCoreMma.IMma
        {
            Words.Left -= blocksPerSlab;
            if (Words.Left == 0)
            {
                Take<TMma>(bits);
                Pending = 1;
                Words.Left = Words.GroupBlocks;
            }
        }

        /// <summary>One word per tile of the slab: its 8/b k-blocks.</summary>
        public void Word<TMma, TBits, TGroups>(TMma mma, ArrayView<TensorCoreGemv.Quad> xq, ArrayView<TensorCoreGemv.Quad> stage, ArrayView<uint> scales, ArrayView<uint> zeros, uint low, uint high, int word, uint lowBits, uint highBits)
            where TMma : struct, TensorCoreMma.IMma
            where TBits : struct, TensorCoreGemv.IConstant
            where TGroups : struct, TensorCoreGemv.IConstant
        {
            // The block synchronizes after every SyncBlocks-th k-block of the slab (slabs hold a multiple of it, and
            // splits start at slabs): constants here.
            int blocks = 8 / MmaPackedWeights.WordBitsOf(default(TBits).Value), first = word * blocks;
            Block<TMma, TBits, TGroups>(mma, xq, stage, scales, zeros, low, high, 0, (first + 1) % SyncBlocks == 0, first, lowBits, highBits, word & 1);
            if (blocks > 1)
            {
                Block<TMma, TBits, TGroups>(mma, xq, stage, scales, zeros, low, high, 1, (first + 2) % SyncBlocks == 0, first + 1, lowBits, highBits, word & 1);
            }

            if (blocks > 2)
            {
                Block<TMma, TBits, TGroups>(mma, xq, stage, scales, zeros, low, high, 2, (first + 3) % SyncBlocks == 0, first + 2, lowBits, highBits, word & 1);
                Block<TMma, TBits, TGroups>(mma, xq, stage, scales, zeros, low, high, 3, (first + 4) % SyncBlocks == 0, first + 3, lowBits, highBits, word & 1);
            }
        }

        /// <summary>k-block <paramref name="j"/> of the current words: decode the A operand, the warpgroup's mma, at a
        /// <paramref name="sync"/> point the barrier and the refill of two ring slots, and open the next group when
        /// this one ends (k-block <paramref name="index"/> of the slab, a constant: <see cref="GroupEnds"/>).</summary>
        private void Block<TMma, TBits, TGroups>(TMma mma, ArrayView<TensorCoreGemv.Quad> xq, ArrayView<TensorCoreGemv.Quad> stage, ArrayView<uint> scales, ArrayView<uint> zeros, uint low, uint high, int j, bool sync, int index, uint lowBits, uint highBits, int parity)
            where TMma : struct, TensorCoreMma.IMma
            where TBits : struct, TensorCoreGemv.IConstant
            where TGroups : struct, TensorCoreGemv.IConstant
        {
            int bits = default(TBits).Value;
            Open.Decode(mma, bits, j, low, high, out uint a0, out uint a1, out uint a2, out uint a3, true, lowBits, highBits, parity);
            mma.Publish(a0, a1, a2, a3, 0, 0, 0, 0, default, default, default, default);
            mma.GroupMultiply(a0, a1, a2, a3, stage, Stage, Descriptor + (ulong)Stage); // the descriptor's address is in 16-byte units, as Stage is
            mma.Retire();

            // After every SyncBlocks-th k-block kb (counting from the split's first): this warpgroup's mmas have
            // completed (drained), and so have this thread's copies, which were of k-blocks kb + 1 … kb + SyncBlocks,
            // the next ones read; once every thread is past the barrier, the slots of k-blocks kb + 1 − SyncBlocks … kb
            // take kb + 1 − SyncBlocks + RingSlots … kb + RingSlots.
            if (sync)
            {
                mma.GroupDrain();
                mma.WaitCopies(RingSlots - (2 * SyncBlocks));
                mma.FenceAsync();
                Group.Barrier();
                for (int fill = 0; fill < SyncBlocks; fill++)
                {
                    Fetch(mma, stage, xq);
                }
            }

            Stage = (Stage + 256) & ((RingSlots * 256) - 1);

            int groupEnds = default(TGroups).Value;
            if (groupEnds < 0)
            {
                if (--Words.Left == 0)
                {
                    NextGroup<TMma>(scales, zeros, bits);
                    Words.Left = Words.GroupBlocks;
                }
            }
            else if (groupEnds > 0)
            {
                // Constants (ILGPU folds the remainder before the condition): the next group opens after this one's last
                // k-block, and the words of the one after it are loaded now, or in the next slab where this is the
                // slab's last k-block.
                if ((index + 1) % System.Math.Max(groupEnds, 1) == 0)
                {
                    Take<TMma>(bits);
                    if (index + 1 < MmaPackedWeights.BlocksPerSlabOf(bits))
                    {
                        Words.Prefetch(scales, zeros, 2);
                    }
                }
            }
        }

        /// <summary>D → y (after the last mma): pair i covers activation rows <paramref name="act"/> + 8i (and + 1);
        /// p is weight row <paramref name="row"/>, q row + 8.</summary>
        public static void Store<TMma>(TMma mma, ArrayView<float> y, TensorCoreGemmShape s, bool add, bool own, int row, int act)
            where TMma : struct, TensorCoreMma.IMma
        {
            mma.GroupResult(out ulong p0, out ulong q0, out ulong p1, out ulong q1, out ulong p2, out ulong q2, out ulong p3, out ulong q3, out ulong p4, out ulong q4, out ulong p5, out ulong q5, out ulong p6, out ulong q6, out ulong p7, out ulong q7, out ulong p8, out ulong q8, out ulong p9, out ulong q9, out ulong p10, out ulong q10, out ulong p11, out ulong q11, out ulong p12, out ulong q12, out ulong p13, out ulong q13, out ulong p14, out ulong q14, out ulong p15, out ulong q15);
            if (own && GemmState.AllInside(s, row + 8, act + 121))
            {
                long rows = s.Rows, step = 8 * rows;
                var at = y.SubView(((long)act * rows) + row);
                var next = at.SubView(rows);
                GemmState.Inside(at, next, 0, add, p0, q0);
                GemmState.Inside(at, next, step, add, p1, q1);
                GemmState.Inside(at, next, 2 * step, add, p2, q2);
                GemmState.Inside(at, next, 3 * step, add, p3, q3);
                GemmState.Inside(at, next, 4 * step, add, p4, q4);
                GemmState.Inside(at, next, 5 * step, add, p5, q5);
                GemmState.Inside(at, next, 6 * step, add, p6, q6);
                GemmState.Inside(at, next, 7 * step, add, p7, q7);
                GemmState.Inside(at, next, 8 * step, add, p8, q8);
                GemmState.Inside(at, next, 9 * step, add, p9, q9);
                GemmState.Inside(at, next, 10 * step, add, p10, q10);
                GemmState.Inside(at, next, 11 * step, add, p11, q11);
                GemmState.Inside(at, next, 12 * step, add, p12, q12);
                GemmState.Inside(at, next, 13 * step, add, p13, q13);
                GemmState.Inside(at, next, 14 * step, add, p14, q14);
                GemmState.Inside(at, next, 15 * step, add, p15, q15);
            }
            else if (own)
            {
                // A tile cut by M (an M that is not a multiple of 128) or by N: one test per pair of activation rows
                // where the weight rows are inside y, per value otherwise.
                GemmState.Cut(y, s, add, row, act + 0, p0, q0);
                GemmState.Cut(y, s, add, row, act + 8, p1, q1);
                GemmState.Cut(y, s, add, row, act + 16, p2, q2);
                GemmState.Cut(y, s, add, row, act + 24, p3, q3);
                GemmState.Cut(y, s, add, row, act + 32, p4, q4);
                GemmState.Cut(y, s, add, row, act + 40, p5, q5);
                GemmState.Cut(y, s, add, row, act + 48, p6, q6);
                GemmState.Cut(y, s, add, row, act + 56, p7, q7);
                GemmState.Cut(y, s, add, row, act + 64, p8, q8);
                GemmState.Cut(y, s, add, row, act + 72, p9, q9);
                GemmState.Cut(y, s, add, row, act + 80, p10, q10);
                GemmState.Cut(y, s, add, row, act + 88, p11, q11);
                GemmState.Cut(y, s, add, row, act + 96, p12, q12);
                GemmState.Cut(y, s, add, row, act + 104, p13, q13);
                GemmState.Cut(y, s, add, row, act + 112, p14, q14);
                GemmState.Cut(y, s, add, row, act + 120, p15, q15);
            }
        }
    }
}
