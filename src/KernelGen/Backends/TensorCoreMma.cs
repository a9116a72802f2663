using System;
using ILGPU;
using ILGPU.Runtime;
using ILGPU.Runtime.Cuda;
using KernelGen.Quantization;

namespace KernelGen.Backends;

/// <summary>
/// The <c>mma.sync.m16n8k16</c> building blocks of the tensor-core kernels: the inline-PTX form CUDA runs and an
/// emulation in the same fragment layout (warp shuffles) that ILGPU's CPU accelerator with 32-lane warps runs, so the
/// fragment bookkeeping of every kernel is tested without a GPU; only the asm strings need one.
/// </summary>
internal static class TensorCoreMma
{
    /// <summary>The mma building blocks the tensor-core kernels are written against (PTX or emulated).</summary>
    internal interface IMma
    {
        /// <summary>Called once per kernel before <see cref="Publish"/>: the emulation takes a shared-memory exchange
        /// buffer; PTX needs nothing.</summary>
        void Allocate();

        /// <summary>Makes two A operands (<paramref name="a0"/>…<paramref name="a3"/>, <paramref name="c0"/>…
        /// <paramref name="c3"/>: slots 0 and 1) and 16 B registers (slots 8…23) visible to
        /// <see cref="MultiplyPublished"/>. The emulation writes them to shared memory behind one barrier, so a k-block's
        /// 16 mmas cost two barriers instead of 512 warp shuffles (each of which the CPU accelerator synchronizes); PTX
        /// does nothing.</summary>
        void Publish(uint a0, uint a1, uint a2, uint a3, uint c0, uint c1, uint c2, uint c3, TensorCoreGemv.Quad x0, TensorCoreGemv.Quad x1, TensorCoreGemv.Quad x2, TensorCoreGemv.Quad x3);

        /// <summary><see cref="Multiply"/> of published operands: the emulation reads A from slots 4·<paramref name="aSlot"/>
        /// and B from slots <paramref name="bLow"/>, <paramref name="bHigh"/> of the lanes that hold them; PTX runs
        /// the mma on the registers given.</summary>
        void MultiplyPublished(ref ulong p, ref ulong q, uint a0, uint a1, uint a2, uint a3, uint b0, uint b1, int aSlot, int bLow, int bHigh);

        /// <summary>Ends the published operands' use (the emulation's second barrier: every lane has read them).</summary>
        void Retire();

        /// <summary>Starts the warpgroup form's accumulators at zero: 64 f32 per thread (D of a 64 × 128 tile), kept
        /// where only <see cref="GroupMultiply"/> and <see cref="GroupResult"/> touch them (PTX: registers the kernel's
        /// code does not see, so the mmas stay in flight across the k-block's other work; the emulation: shared
        /// memory). Called once, by every thread, before the first <see cref="GroupMultiply"/>.</summary>
        void GroupBegin();

        /// <summary>Issues the warpgroup form's mma (<c>wgmma.mma_async.m64n128k16</c>, sm_90a), one call by each of the
        /// block's four warps: the 64 × 16 A is the four warps' A operands (warp w: rows 16w … 16w + 15, in this warp's
        /// registers <paramref name="a0"/>…<paramref name="a3"/>, published in slot 0 for the emulation), B is 128
        /// activation rows × 16 k of f16 in shared memory in the canonical K-major layout without swizzle (see
        /// <see cref="TensorCoreGemm.PrepareKernel"/>), from quad <paramref name="quad"/> of <paramref name="stage"/>,
        /// which <paramref name="descriptor"/> addresses for the hardware. Returns once the previous call's mma has
        /// completed (PTX: <c>wgmma.wait_group 1</c>), so the stage that one read may be written again; this one may
        /// still be reading its stage and its A registers.</summary>
        void GroupMultiply(uint a0, uint a1, uint a2, uint a3, ArrayView<TensorCoreGemv.Quad> stage, int quad, ulong descriptor);

        /// <summary>Waits until this warpgroup's last <see cref="GroupMultiply"/> has completed too
        /// (<c>wgmma.wait_group 0</c>; <see cref="GroupMultiply"/> leaves one in flight); nothing in the emulation.</summary>
        void GroupDrain();

        /// <summary>Waits for the last mma and returns the accumulators: this warp's rows g (<paramref name="p0"/>…) and
        /// g + 8 (<paramref name="q0"/>…) against activation rows 8i + 2t, + 1 (pair i), as sixteen m16n8 mmas would
        /// hold them.</summary>
        void GroupResult(out ulong p0, out ulong q0, out ulong p1, out ulong q1, out ulong p2, out ulong q2, out ulong p3, out ulong q3, out ulong p4, out ulong q4, out ulong p5, out ulong q5, out ulong p6, out ulong q6, out ulong p7, out ulong q7, out ulong p8, out ulong q8, out ulong p9, out ulong q9, out ulong p10, out ulong q10, out ulong p11, out ulong q11, out ulong p12, out ulong q12, out ulong p13, out ulong q13, out ulong p14, out ulong q14, out ulong p15, out ulong q15);

        /// <summary>The shared-memory address of the kernel's one shared allocation (PTX; see
        /// <see cref="PtxPeephole.BindSharedSymbol"/>), 0 in the emulation.</summary>
        uint SharedBase();

        /// <summary>Copies 16 bytes, quad <paramref name="from"/> of <paramref name="source"/> (a global buffer at
        /// <paramref name="sourceAddress"/>) to quad <paramref name="to"/> of <paramref name="stage"/> (the kernel's shared
        /// memory at <paramref name="sharedBase"/>), without registers: PTX's <c>cp.async.cg</c>, completed by
        /// <see cref="WaitCopies"/>; the emulation copies at once.</summary>
        void CopyAsync(ArrayView<TensorCoreGemv.Quad> stage, int to, uint sharedBase, ArrayView<TensorCoreGemv.Quad> source, int from, ulong sourceAddress);

        /// <summary>As <see cref="CopyAsync"/> for 8 bytes (3-bit codes' third bits): duo <paramref name="from"/> of
        /// <paramref name="source"/> to duo <paramref name="to"/> of <paramref name="stage"/>: PTX's <c>cp.async.ca</c>
        /// (<c>.cg</c> copies only 16).</summary>
        void CopyAsync8(ArrayView<TensorCoreGemm.Duo> stage, int to, uint sharedBase, ArrayView<TensorCoreGemm.Duo> source, int from, ulong sourceAddress);

        /// <summary>The quad at byte <paramref name="address"/> of the kernel's shared memory (from <see cref="SharedBase"/>),
        /// which is <paramref name="stage"/>: PTX's <c>ld.shared.v4.u32</c> at a 32-bit address (ILGPU's view loads
        /// compute 64-bit generic addresses); the emulation reads the view.</summary>
        TensorCoreGemv.Quad LoadShared(ArrayView<TensorCoreGemv.Quad> stage, uint address);

        /// <summary>Stores <paramref name="low"/>, <paramref name="high"/> at byte <paramref name="address"/> (a multiple
        /// of 8) of the kernel's shared memory, <paramref name="stage"/>: <c>st.shared.v2.u32</c>.</summary>
        void StoreShared(ArrayView<TensorCoreGemv.Quad> stage, uint address, uint low, uint high);

        /// <summary>Closes this thread's group of <see cref="CopyAsync"/> copies (<c>cp.async.commit_group</c>).</summary>
        void CommitCopies();

        /// <summary>Waits until at most <paramref name="pending"/> (0 to 6, a constant) of this thread's latest copy
        /// groups are still in flight (<c>cp.async.wait_group</c>).</summary>
        void WaitCopies(int pending);

        /// <summary>Waits until the grid this one was launched behind with a programmatic dependency (the conversion of
        /// x) has finished and its writes are visible: PTX's <c>griddepcontrol.wait</c> where <see cref="PtxPeephole"/>
        /// enables it for a compute capability 9.0 card (a marker comment otherwise; the instruction returns at once in
        /// a grid launched without that dependency); nothing in the emulation, whose launches run in order.</summary>
        void WaitForPrimary();

        /// <summary>Lets the grid launched next with a programmatic dependency start before this one ends
        /// (<c>griddepcontrol.launch_dependents</c>, enabled as <see cref="WaitForPrimary"/> is); nothing in the emulation.</summary>
        void LaunchDependents();

        /// <summary>Orders this thread's shared-memory stores before the async proxy's reads (<c>wgmma</c>): PTX's
        /// <c>fence.proxy.async.shared::cta</c>, nothing in the emulation.</summary>
        void FenceAsync();

        /// <summary>Quad <paramref name="index"/> of <paramref name="source"/>, whose device address is
        /// <paramref name="address"/>: on CUDA one <c>ld.global.nc.L1::no_allocate.v4.u32</c> (ILGPU's own loads are
        /// generic, <c>LD.E</c> in the SASS, and go through L1), elsewhere the view's element.</summary>
        TensorCoreGemv.Quad LoadStreaming(ArrayView<TensorCoreGemv.Quad> source, long index, ulong address);

        /// <summary><see cref="LoadStreaming"/> where <paramref name="load"/>, else nothing is read and the result is
        /// undefined (on CUDA a predicated load, whose destination registers ptxas may give any value: unlike a load behind
        /// a branch, it does not keep the registers' previous value alive, which in a loop of two register sets taking turns
        /// costs a copy of every register per turn; the emulation returns zeros).</summary>
        TensorCoreGemv.Quad LoadStreamingIf(ArrayView<TensorCoreGemv.Quad> source, long index, ulong address, bool load);

        /// <summary>Element <paramref name="index"/> of 8-byte words at <paramref name="address"/> (the device address of
        /// <paramref name="source"/>'s element 0) as <see cref="LoadStreaming"/> reads quads: on CUDA
        /// <c>ld.global.nc.L1::no_allocate.v2.u32</c>, elsewhere the view's element. Low word first.</summary>
        ulong LoadStreamingPair(ArrayView<ulong> source, long index, ulong address);

        /// <summary><see cref="LoadStreamingIf"/> of quad <paramref name="index"/>, whose device address the caller
        /// computed (<paramref name="at"/>, a byte address): a kernel that loads several tiles a fixed distance apart per slab
        /// steps one 64-bit address per slab where an index scaled per load costs ptxas four instructions each. The
        /// emulation reads the view's element.</summary>
        TensorCoreGemv.Quad LoadStreamingIfAt(ArrayView<TensorCoreGemv.Quad> source, long index, ulong at, bool load);

        /// <summary><see cref="LoadStreamingPair"/> of word <paramref name="index"/>, at the byte address
        /// <paramref name="at"/> the caller computed (as <see cref="LoadStreamingIfAt"/>).</summary>
        ulong LoadStreamingPairAt(ArrayView<ulong> source, long index, ulong at);

        /// <summary>Two floats rounded to nearest f16 (<c>cvt.rn.f16x2.f32</c>), <paramref name="low"/> in the low half.</summary>
        uint Pack(float low, float high);

        /// <summary>Called once at the top of every kernel that runs <see cref="Multiply"/> or <see cref="MultiplyInt8"/>,
        /// by every thread (a shared allocation): the emulation's buffer through which those pass each lane's operands
        /// to its warp; PTX: an empty view. Helpers hand it to their mma with <see cref="UseOperands"/>.</summary>
        ArrayView<uint> AllocateOperands();

        /// <summary>Makes <paramref name="operands"/> (<see cref="AllocateOperands"/>'s buffer) this mma's; PTX ignores it.</summary>
        void UseOperands(ArrayView<uint> operands);

        /// <summary>The whole m16n8k16 mma, B already in f16: <paramref name="p"/> (D rows g, columns 2t, 2t+1) and
        /// <paramref name="q"/> (rows g + 8) += A · B, with A's four registers as PTX orders them (a0: rows g, k 2t…;
        /// a1: rows g + 8; a2: rows g, k 2t + 8…; a3: rows g + 8, k 2t + 8…).</summary>
        void Multiply(ref ulong p, ref ulong q, uint a0, uint a1, uint a2, uint a3, uint b0, uint b1);

        /// <summary>The integer mma <c>mma.sync.m16n8k32.row.col.s32.u8.s8.s32</c>: <paramref name="p"/> (D rows g, columns
        /// 2t, 2t+1, two s32) and <paramref name="q"/> (rows g + 8) += A · B, A unsigned bytes (a0: row g, k 4t…4t+3; a1:
        /// row g + 8; a2: row g, k 16 + 4t…; a3: row g + 8, k 16 + 4t…), B signed bytes (b0: column g, k 4t…4t+3; b1:
        /// k 16 + 4t…). Exact: integer products and sums (<see cref="Int8ActivationGemv"/>).</summary>
        void MultiplyInt8(ref ulong p, ref ulong q, uint a0, uint a1, uint a2, uint a3, uint b0, uint b1);

        /// <summary>A code pair to scaled f16 weights: <c>((word &amp; mask) | 0x6400_6400)</c> (one <c>lop3</c>: 1024 +
        /// code·2^s per half), then <c>fma.rn.f16x2</c> by <paramref name="power"/> (2^−s) and <paramref name="bias"/>
        /// (−(1024·2^−s + zero)): code − zero, exactly; then <c>mul.rn.f16x2</c> by <paramref name="scale"/> (one rounding).</summary>
        uint DecodeScaled(uint word, uint mask, uint power, uint bias, uint scale);

        /// <summary><see cref="DecodeScaled"/> without the scale: code − zero per half, exactly (one <c>lop3</c>, one
        /// <c>fma.rn.f16x2</c>), for kernels that apply the scale to the mma's f32 sums instead.</summary>
        uint Decode(uint word, uint mask, uint power, uint bias);

        /// <summary>A code pair to f16 as it lies in the word, offset: <c>(word &amp; mask) | magic</c> (one <c>lop3</c>),
        /// where <paramref name="magic"/> is 2^(10−s) per half for codes at bit s, whose f16 ulp at that exponent is 1:
        /// 2^(10−s) + code per half, exactly. The kernel removes the offset and the zero point from the group's f32 sums
        /// (<see cref="TensorCoreGemv.IVariant.OffsetDecode"/>).</summary>
        uint DecodeOffset(uint word, uint mask, uint magic);

        /// <summary>The bits of <paramref name="a"/> where <paramref name="select"/> has ones, of <paramref name="b"/>
        /// elsewhere (one <c>lop3</c>): merges 3-bit codes' third bits with their low two.</summary>
        uint Select(uint a, uint b, uint select);

        /// <summary>The low half of <paramref name="pair"/> as a float (<c>cvt.f32.f16</c>).</summary>
        float HalfToFloat(uint pair);

        /// <summary>a·b rounded to f32 on its own (<c>mul.rn.f32</c>, which ptxas never fuses into a following add), so
        /// that a rounding that adds to it afterwards matches the host's.</summary>
        float MultiplyRounded(float a, float b);
    }

    /// <summary>The CUDA form: sub.f16x2 then mma.sync in one inline-PTX statement.</summary>
    internal readonly struct PtxMma : IMma
    {
        public void Allocate()
        {
        }

        public ArrayView<uint> AllocateOperands() => default;

        public void UseOperands(ArrayView<uint> operands)
        {
        }

        public void Publish(uint a0, uint a1, uint a2, uint a3, uint c0, uint c1, uint c2, uint c3, TensorCoreGemv.Quad x0, TensorCoreGemv.Quad x1, TensorCoreGemv.Quad x2, TensorCoreGemv.Quad x3)
        {
        }

        public void MultiplyPublished(ref ulong p, ref ulong q, uint a0, uint a1, uint a2, uint a3, uint b0, uint b1, int aSlot, int bLow, int bHigh)
            => Multiply(ref p, ref q, a0, a1, a2, a3, b0, b1);

        public void Retire()
        {
        }

        public void GroupBegin()
            => CudaAsm.Emit(
                "{ " +
                "mov.b32 kgacc0, 0; mov.b32 kgacc1, 0; mov.b32 kgacc2, 0; mov.b32 kgacc3, 0; mov.b32 kgacc4, 0; mov.b32 kgacc5, 0; mov.b32 kgacc6, 0; mov.b32 kgacc7, 0; mov.b32 kgacc8, 0; mov.b32 kgacc9, 0; mov.b32 kgacc10, 0; mov.b32 kgacc11, 0; mov.b32 kgacc12, 0; mov.b32 kgacc13, 0; mov.b32 kgacc14, 0; mov.b32 kgacc15, 0; " +
                "mov.b32 kgacc16, 0; mov.b32 kgacc17, 0; mov.b32 kgacc18, 0; mov.b32 kgacc19, 0; mov.b32 kgacc20, 0; mov.b32 kgacc21, 0; mov.b32 kgacc22, 0; mov.b32 kgacc23, 0; mov.b32 kgacc24, 0; mov.b32 kgacc25, 0; mov.b32 kgacc26, 0; mov.b32 kgacc27, 0; mov.b32 kgacc28, 0; mov.b32 kgacc29, 0; mov.b32 kgacc30, 0; mov.b32 kgacc31, 0; " +
                "mov.b32 kgacc32, 0; mov.b32 kgacc33, 0; mov.b32 kgacc34, 0; mov.b32 kgacc35, 0; mov.b32 kgacc36, 0; mov.b32 kgacc37, 0; mov.b32 kgacc38, 0; mov.b32 kgacc39, 0; mov.b32 kgacc40, 0; mov.b32 kgacc41, 0; mov.b32 kgacc42, 0; mov.b32 kgacc43, 0; mov.b32 kgacc44, 0; mov.b32 kgacc45, 0; mov.b32 kgacc46, 0; mov.b32 kgacc47, 0; " +
                "mov.b32 kgacc48, 0; mov.b32 kgacc49, 0; mov.b32 kgacc50, 0; mov.b32 kgacc51, 0; mov.b32 kgacc52, 0; mov.b32 kgacc53, 0; mov.b32 kgacc54, 0; mov.b32 kgacc55, 0; mov.b32 kgacc56, 0; mov.b32 kgacc57, 0; mov.b32 kgacc58, 0; mov.b32 kgacc59, 0; mov.b32 kgacc60, 0; mov.b32 kgacc61, 0; mov.b32 kgacc62, 0; mov.b32 kgacc63, 0; " +
                "}"); // kgacc: PtxPeephole.Accumulators, declared by PtxPeephole.TargetWarpGroups

        public void GroupDrain() => CudaAsm.Emit("wgmma.wait_group.sync.aligned 0;");

        public void GroupMultiply(uint a0, uint a1, uint a2, uint a3, ArrayView<TensorCoreGemv.Quad> stage, int quad, ulong descriptor)
            => CudaAsm.Emit(
                "{ .reg .b32 kt; .reg .pred kp; mov.b32 kt, 1; setp.ne.b32 kp, kt, 0; wgmma.fence.sync.aligned; " +
                "wgmma.mma_async.sync.aligned.m64n128k16.f32.f16.f16 {" +
                "kgacc0, kgacc1, kgacc2, kgacc3, kgacc4, kgacc5, kgacc6, kgacc7, kgacc8, kgacc9, kgacc10, kgacc11, kgacc12, kgacc13, kgacc14, kgacc15, " +
                "kgacc16, kgacc17, kgacc18, kgacc19, kgacc20, kgacc21, kgacc22, kgacc23, kgacc24, kgacc25, kgacc26, kgacc27, kgacc28, kgacc29, kgacc30, kgacc31, " +
                "kgacc32, kgacc33, kgacc34, kgacc35, kgacc36, kgacc37, kgacc38, kgacc39, kgacc40, kgacc41, kgacc42, kgacc43, kgacc44, kgacc45, kgacc46, kgacc47, " +
                "kgacc48, kgacc49, kgacc50, kgacc51, kgacc52, kgacc53, kgacc54, kgacc55, kgacc56, kgacc57, kgacc58, kgacc59, kgacc60, kgacc61, kgacc62, kgacc63}, {%0, %1, %2, %3}, %4, kp, 1, 1, 0; " +
                "wgmma.commit_group.sync.aligned; wgmma.wait_group.sync.aligned 1; }",
                a0,
                a1,
                a2,
                a3,
                descriptor);

        public void GroupResult(out ulong p0, out ulong q0, out ulong p1, out ulong q1, out ulong p2, out ulong q2, out ulong p3, out ulong q3, out ulong p4, out ulong q4, out ulong p5, out ulong q5, out ulong p6, out ulong q6, out ulong p7, out ulong q7, out ulong p8, out ulong q8, out ulong p9, out ulong q9, out ulong p10, out ulong q10, out ulong p11, out ulong q11, out ulong p12, out ulong q12, out ulong p13, out ulong q13, out ulong p14, out ulong q14, out ulong p15, out ulong q15)
        {
            Output<ulong> op0 = default;
            Output<ulong> oq0 = default;
            Output<ulong> op1 = default;
            Output<ulong> oq1 = default;
            Output<ulong> op2 = default;
            Output<ulong> oq2 = default;
            Output<ulong> op3 = default;
            Output<ulong> oq3 = default;
            Output<ulong> op4 = default;
            Output<ulong> oq4 = default;
            Output<ulong> op5 = default;
            Output<ulong> oq5 = default;
            Output<ulong> op6 = default;
            Output<ulong> oq6 = default;
            Output<ulong> op7 = default;
            Output<ulong> oq7 = default;
            Output<ulong> op8 = default;
            Output<ulong> oq8 = default;
            Output<ulong> op9 = default;
            Output<ulong> oq9 = default;
            Output<ulong> op10 = default;
            Output<ulong> oq10 = default;
            Output<ulong> op11 = default;
            Output<ulong> oq11 = default;
            Output<ulong> op12 = default;
            Output<ulong> oq12 = default;
            Output<ulong> op13 = default;
            Output<ulong> oq13 = default;
            Output<ulong> op14 = default;
            Output<ulong> oq14 = default;
            Output<ulong> op15 = default;
            Output<ulong> oq15 = default;
            CudaAsm.EmitRef(
                "{ wgmma.wait_group.sync.aligned 0; " +
                "mov.b64 %0, {kgacc0, kgacc1}; mov.b64 %1, {kgacc2, kgacc3}; mov.b64 %2, {kgacc4, kgacc5}; mov.b64 %3, {kgacc6, kgacc7}; mov.b64 %4, {kgacc8, kgacc9}; mov.b64 %5, {kgacc10, kgacc11}; mov.b64 %6, {kgacc12, kgacc13}; mov.b64 %7, {kgacc14, kgacc15}; " +
                "mov.b64 %8, {kgacc16, kgacc17}; mov.b64 %9, {kgacc18, kgacc19}; mov.b64 %10, {kgacc20, kgacc21}; mov.b64 %11, {kgacc22, kgacc23}; mov.b64 %12, {kgacc24, kgacc25}; mov.b64 %13, {kgacc26, kgacc27}; mov.b64 %14, {kgacc28, kgacc29}; mov.b64 %15, {kgacc30, kgacc31}; " +
                "mov.b64 %16, {kgacc32, kgacc33}; mov.b64 %17, {kgacc34, kgacc35}; mov.b64 %18, {kgacc36, kgacc37}; mov.b64 %19, {kgacc38, kgacc39}; mov.b64 %20, {kgacc40, kgacc41}; mov.b64 %21, {kgacc42, kgacc43}; mov.b64 %22, {kgacc44, kgacc45}; mov.b64 %23, {kgacc46, kgacc47}; " +
                "mov.b64 %24, {kgacc48, kgacc49}; mov.b64 %25, {kgacc50, kgacc51}; mov.b64 %26, {kgacc52, kgacc53}; mov.b64 %27, {kgacc54, kgacc55}; mov.b64 %28, {kgacc56, kgacc57}; mov.b64 %29, {kgacc58, kgacc59}; mov.b64 %30, {kgacc60, kgacc61}; mov.b64 %31, {kgacc62, kgacc63}; }",
                ref op0, ref oq0, ref op1, ref oq1, ref op2, ref oq2, ref op3, ref oq3, ref op4, ref oq4, ref op5, ref oq5, ref op6, ref oq6, ref op7, ref oq7, ref op8, ref oq8, ref op9, ref oq9, ref op10, ref oq10, ref op11, ref oq11, ref op12, ref oq12, ref op13, ref oq13, ref op14, ref oq14, ref op15, ref oq15);
            p0 = op0.Value;
            q0 = oq0.Value;
            p1 = op1.Value;
            q1 = oq1.Value;
            p2 = op2.Value;
            q2 = oq2.Value;
            p3 = op3.Value;
            q3 = oq3.Value;
            p4 = op4.Value;
            q4 = oq4.Value;
            p5 = op5.Value;
            q5 = oq5.Value;
            p6 = op6.Value;
            q6 = oq6.Value;
            p7 = op7.Value;
            q7 = oq7.Value;
            p8 = op8.Value;
            q8 = oq8.Value;
            p9 = op9.Value;
            q9 = oq9.Value;
            p10 = op10.Value;
            q10 = oq10.Value;
            p11 = op11.Value;
            q11 = oq11.Value;
            p12 = op12.Value;
            q12 = oq12.Value;
            p13 = op13.Value;
            q13 = oq13.Value;
            p14 = op14.Value;
            q14 = oq14.Value;
            p15 = op15.Value;
            q15 = oq15.Value;
        }

        public uint SharedBase()
        {
            CudaAsm.Emit("{ .reg .b64 ka; mov.b64 ka, " + PtxPeephole.SharedSymbol + "; cvt.u32.u64 %0, ka; }", out uint address);
            return address;
        }

        public void FenceAsync() => CudaAsm.Emit("fence.proxy.async.shared::cta;");

        public TensorCoreGemv.Quad LoadStreaming(ArrayView<TensorCoreGemv.Quad> source, long index, ulong address)
        {
            Output<uint> x = default, y = default, z = default, w = default;
            Input<ulong> at = address + ((ulong)index * 16);
            CudaAsm.EmitRef("ld.global.nc.L1::no_allocate.v4.u32 {%0, %1, %2, %3}, [%4];", ref x, ref y, ref z, ref w, ref at);
            return new TensorCoreGemv.Quad { X = x.Value, Y = y.Value, Z = z.Value, W = w.Value };
        }

        public ulong LoadStreamingPair(ArrayView<ulong> source, long index, ulong address)
            => LoadStreamingPairAt(source, index, address + ((ulong)index * 8));

        public ulong LoadStreamingPairAt(ArrayView<ulong> source, long index, ulong at)
        {
            Output<uint> x = default, y = default;
            Input<ulong> address = at;
            CudaAsm.EmitRef("ld.global.nc.L1::no_allocate.v2.u32 {%0, %1}, [%2];", ref x, ref y, ref address);
            return ((ulong)y.Value << 32) | x.Value;
        }

        public TensorCoreGemv.Quad LoadStreamingIfAt(ArrayView<TensorCoreGemv.Quad> source, long index, ulong at, bool load)
        {
            Output<uint> x = default, y = default, z = default, w = default;
            Input<ulong> address = at;
            Input<uint> ask = load ? 1u : 0u;
            CudaAsm.EmitRef("{ .reg .pred kp; setp.ne.u32 kp, %5, 0; @kp ld.global.nc.L1::no_allocate.v4.u32 {%0, %1, %2, %3}, [%4]; }", ref x, ref y, ref z, ref w, ref address, ref ask);
            return new TensorCoreGemv.Quad { X = x.Value, Y = y.Value, Z = z.Value, W = w.Value };
        }

        public TensorCoreGemv.Quad LoadStreamingIf(ArrayView<TensorCoreGemv.Quad> source, long index, ulong address, bool load)
            => LoadStreamingIfAt(source, index, address + ((ulong)index * 16), load);

        public void CopyAsync(ArrayView<TensorCoreGemv.Quad> stage, int to, uint sharedBase, ArrayView<TensorCoreGemv.Quad> source, int from, ulong sourceAddress)
            => CudaAsm.Emit("cp.async.cg.shared.global [%0], [%1], 16;", sharedBase + ((uint)to * 16), sourceAddress + ((ulong)(uint)from * 16));

        public void CopyAsync8(ArrayView<TensorCoreGemm.Duo> stage, int to, uint sharedBase, ArrayView<TensorCoreGemm.Duo> source, int from, ulong sourceAddress)
            => CudaAsm.Emit("cp.async.ca.shared.global [%0], [%1], 8;", sharedBase + ((uint)to * 8), sourceAddress + ((ulong)(uint)from * 8));

        public void CommitCopies() => CudaAsm.Emit("cp.async.commit_group;");

        public void WaitForPrimary() => CudaAsm.Emit(PtxPeephole.WaitMarker);

        public void LaunchDependents() => CudaAsm.Emit(PtxPeephole.LaunchMarker);

        public TensorCoreGemv.Quad LoadShared(ArrayView<TensorCoreGemv.Quad> stage, uint address)
        {
            Output<uint> x = default, y = default, z = default, w = default;
            Input<uint> at = address;
            CudaAsm.EmitRef("ld.shared.v4.u32 {%0, %1, %2, %3}, [%4];", ref x, ref y, ref z, ref w, ref at);
            return new TensorCoreGemv.Quad { X = x.Value, Y = y.Value, Z = z.Value, W = w.Value };
        }

        public void StoreShared(ArrayView<TensorCoreGemv.Quad> stage, uint address, uint low, uint high)
            => CudaAsm.Emit("st.shared.v2.u32 [%0], {%1, %2};", address, low, high);

        public void WaitCopies(int pending)
        {
            // The count is an immediate: one statement per value (ILGPU folds the constant argument).
            switch (pending)
            {
                case 0: CudaAsm.Emit("cp.async.wait_group 0;"); break;
                case 1: CudaAsm.Emit("cp.async.wait_group 1;"); break;
                case 2: CudaAsm.Emit("cp.async.wait_group 2;"); break;
                case 3: CudaAsm.Emit("cp.async.wait_group 3;"); break;
                case 4: CudaAsm.Emit("cp.async.wait_group 4;"); break;
                case 5: CudaAsm.Emit("cp.async.wait_group 5;"); break;
                default: CudaAsm.Emit("cp.async.wait_group 6;"); break;
            }
        }

        public void Multiply(ref ulong p, ref ulong q, uint a0, uint a1, uint a2, uint a3, uint b0, uint b1)
        {
            // By-reference operands pass through local memory in ILGPU's PTX; PtxPeephole forwards them to registers.
            Output<ulong> dp = default, dq = default;
            Input<ulong> cp = p, cq = q;
            Input<uint> ia0 = a0, ia1 = a1, ia2 = a2, ia3 = a3, ib0 = b0, ib1 = b1;
            CudaAsm.EmitRef(
                "{ .reg .b32 kd<4>; mov.b64 {kd0, kd1}, %2; mov.b64 {kd2, kd3}, %3; " +
                "mma.sync.aligned.m16n8k16.row.col.f32.f16.f16.f32 {kd0, kd1, kd2, kd3}, {%4, %5, %6, %7}, {%8, %9}, {kd0, kd1, kd2, kd3}; " +
                "mov.b64 %0, {kd0, kd1}; mov.b64 %1, {kd2, kd3}; }",
                ref dp, ref dq, ref cp, ref cq, ref ia0, ref ia1, ref ia2, ref ia3, ref ib0, ref ib1);
            p = dp.Value;
            q = dq.Value;
        }

        public void MultiplyInt8(ref ulong p, ref ulong q, uint a0, uint a1, uint a2, uint a3, uint b0, uint b1)
        {
            Output<ulong> dp = default, dq = default;
            Input<ulong> cp = p, cq = q;
            Input<uint> ia0 = a0, ia1 = a1, ia2 = a2, ia3 = a3, ib0 = b0, ib1 = b1;
            CudaAsm.EmitRef(
                "{ .reg .b32 kd<4>; mov.b64 {kd0, kd1}, %2; mov.b64 {kd2, kd3}, %3; " +
                "mma.sync.aligned.m16n8k32.row.col.s32.u8.s8.s32 {kd0, kd1, kd2, kd3}, {%4, %5, %6, %7}, {%8, %9}, {kd0, kd1, kd2, kd3}; " +
                "mov.b64 %0, {kd0, kd1}; mov.b64 %1, {kd2, kd3}; }",
                ref dp, ref dq, ref cp, ref cq, ref ia0, ref ia1, ref ia2, ref ia3, ref ib0, ref ib1);
            p = dp.Value;
            q = dq.Value;
        }

        public uint DecodeScaled(uint word, uint mask, uint power, uint bias, uint scale)
        {
            // One lop3 (ptxas splits a C# and-then-or with two constants into two), and constants through registers:
            // ILGPU writes constant operands as immediates, which the f16x2 instructions do not take.
            CudaAsm.Emit(
                "{ .reg .b32 km, kt, kp, kb, kc, ks; mov.b32 km, %2; mov.b32 kp, %3; mov.b32 kb, %4; mov.b32 ks, %5; " +
                "lop3.b32 kt, %1, km, 0x64006400, 0xEA; fma.rn.f16x2 kc, kt, kp, kb; mul.rn.f16x2 %0, kc, ks; }",
                out uint d,
                word,
                mask,
                power,
                bias,
                scale);
            return d;
        }

        public uint Decode(uint word, uint mask, uint power, uint bias)
        {
            CudaAsm.Emit(
                "{ .reg .b32 km, kt, kp, kb; mov.b32 km, %2; mov.b32 kp, %3; mov.b32 kb, %4; " +
                "lop3.b32 kt, %1, km, 0x64006400, 0xEA; fma.rn.f16x2 %0, kt, kp, kb; }",
                out uint d,
                word,
                mask,
                power,
                bias);
            return d;
        }

        public uint DecodeOffset(uint word, uint mask, uint magic)
        {
            CudaAsm.Emit("{ .reg .b32 km, kn; mov.b32 km, %2; mov.b32 kn, %3; lop3.b32 %0, %1, km, kn, 0xEA; }", out uint d, word, mask, magic);
            return d;
        }

        public uint Select(uint a, uint b, uint select)
        {
            CudaAsm.Emit("{ .reg .b32 ks; mov.b32 ks, %3; lop3.b32 %0, %1, %2, ks, 0xE4; }", out uint d, a, b, select);
            return d;
        }

        public float HalfToFloat(uint pair)
        {
            CudaAsm.Emit("{ .reg .b16 kl, kh; mov.b32 {kl, kh}, %1; cvt.f32.f16 %0, kl; }", out float f, pair);
            return f;
        }

        public float MultiplyRounded(float a, float b)
        {
            CudaAsm.Emit("mul.rn.f32 %0, %1, %2;", out float d, a, b);
            return d;
        }

        public uint Pack(float low, float high)
        {
            CudaAsm.Emit("cvt.rn.f16x2.f32 %0, %2, %1;", out uint d, low, high);
            return d;
        }
    }

    /// <summary>
    /// Everywhere else: the same arithmetic with the fragment layout of PTX's mma.m16n8k16 (.row.col), exchanging
    /// fragments by warp shuffles: lane (g, t) holds A row g at columns 2t, 2t+1 and 2t+8, 2t+9; B column g at rows
    /// 2t, 2t+1 (b0) and 2t+8, 2t+9 (b1); D row g at columns 2t, 2t+1.
    /// </summary>
    internal struct EmulatedMma : IMma
    {
        /// <summary>Warps per group the exchange buffer has room for.</summary>
        private const int MaxWarps = 8;

        /// <summary>Words per lane in the exchange buffer.</summary>
        private const int Slots = 24;

        private ArrayView<uint> exchange;

        private ArrayView<float> accumulators;

        public void Allocate() => exchange = SharedMemory.Allocate<uint>(MaxWarps * 32 * Slots);

        /// <summary>Words per lane in <see cref="AllocateOperands"/>'s buffer: A's four registers, then B's two.</summary>
        private const int OperandWords = 6;

        /// <summary>Warps per group <see cref="AllocateOperands"/>'s buffer has room for: the widest groups the GEMVs launch.</summary>
        private const int MaxOperandWarps = Int8ActivationGemv.MaxWarpsPerGroup > TensorCoreGemv.WideWarpsPerGroup ? Int8ActivationGemv.MaxWarpsPerGroup : TensorCoreGemv.WideWarpsPerGroup;

        private ArrayView<uint> operands;

        /// <summary>The buffer through which <see cref="Multiply"/> and <see cref="MultiplyInt8"/> pass each lane's operands
        /// to its warp: one shared write and two warp barriers per mma where 32 warp shuffles took, each of which the CPU
        /// accelerator runs as a lock step and two barriers of the warp's 32 threads (where the GEMV tests spent their
        /// time: TensorCoreGemvTests 216 s → 18 s alone on a 2-core machine). Allocated once at the kernel's top: the CPU
        /// accelerator matches each thread's n-th shared allocation with the others' n-th, so an allocation inside an mma
        /// that some warps run fewer times than others would hand them different buffers.</summary>
        public readonly ArrayView<uint> AllocateOperands() => SharedMemory.Allocate<uint>(MaxOperandWarps * 32 * OperandWords);

        public void UseOperands(ArrayView<uint> operands) => this.operands = operands;

        /// <summary>Writes this lane's operands where the warp's lanes read them (behind a warp barrier) and returns the
        /// warp's first word.</summary>
        private readonly int Exchange(uint a0, uint a1, uint a2, uint a3, uint b0, uint b1)
        {
            int warp = Warp.WarpIdx * 32 * OperandWords, own = warp + (Warp.LaneIdx * OperandWords);
            operands[own] = a0;
            operands[own + 1] = a1;
            operands[own + 2] = a2;
            operands[own + 3] = a3;
            operands[own + 4] = b0;
            operands[own + 5] = b1;
            Warp.Barrier();
            return warp;
        }

        public readonly void Publish(uint a0, uint a1, uint a2, uint a3, uint c0, uint c1, uint c2, uint c3, TensorCoreGemv.Quad x0, TensorCoreGemv.Quad x1, TensorCoreGemv.Quad x2, TensorCoreGemv.Quad x3)
        {
            int own = ((Warp.WarpIdx * 32) + Warp.LaneIdx) * Slots;
            exchange[own] = a0;
            exchange[own + 1] = a1;
            exchange[own + 2] = a2;
            exchange[own + 3] = a3;
            exchange[own + 4] = c0;
            exchange[own + 5] = c1;
            exchange[own + 6] = c2;
            exchange[own + 7] = c3;
            Put(own + 8, x0);
            Put(own + 12, x1);
            Put(own + 16, x2);
            Put(own + 20, x3);
            Warp.Barrier();
        }

        private readonly void Put(int at, TensorCoreGemv.Quad x)
        {
            exchange[at] = x.X;
            exchange[at + 1] = x.Y;
            exchange[at + 2] = x.Z;
            exchange[at + 3] = x.W;
        }

        public readonly void MultiplyPublished(ref ulong p, ref ulong q, uint a0, uint a1, uint a2, uint a3, uint b0, uint b1, int aSlot, int bLow, int bHigh)
        {
            // The same sums in the same order as the shuffle form, read from the lanes that hold them.
            int lane = Warp.LaneIdx, g = lane >> 2, t = lane & 3, at = Warp.WarpIdx * 32 * Slots;
            float p0 = Interop.IntAsFloat((uint)p), p1 = Interop.IntAsFloat((uint)(p >> 32));
            float q0 = Interop.IntAsFloat((uint)q), q1 = Interop.IntAsFloat((uint)(q >> 32));
            for (int k = 0; k < 4; k++)
            {
                int a = at + (((4 * g) + k) * Slots) + (4 * aSlot), c0 = at + (((8 * t) + k) * Slots), c1 = at + (((8 * t) + 4 + k) * Slots);
                uint ra0 = exchange[a], ra1 = exchange[a + 1], ra2 = exchange[a + 2], ra3 = exchange[a + 3];
                uint rb00 = exchange[c0 + bLow], rb01 = exchange[c0 + bHigh], rb10 = exchange[c1 + bLow], rb11 = exchange[c1 + bHigh];
                Accumulate(ref p0, ref p1, ref q0, ref q1, ra0, ra1, ra2, ra3, rb00, rb01, rb10, rb11);
            }

            p = Interop.FloatAsInt(p0) | ((ulong)Interop.FloatAsInt(p1) << 32);
            q = Interop.FloatAsInt(q0) | ((ulong)Interop.FloatAsInt(q1) << 32);
        }

        public readonly void Retire() => Warp.Barrier();

        public void GroupBegin()
        {
            accumulators = SharedMemory.Allocate<float>(MaxWarps * 32 * 64);
            int own = ((Warp.WarpIdx * 32) + Warp.LaneIdx) * 64;
            for (int i = 0; i < 64; i++)
            {
                accumulators[own + i] = 0;
            }
        }

        public readonly void GroupDrain()
        {
        }

        public readonly void GroupMultiply(uint a0, uint a1, uint a2, uint a3, ArrayView<TensorCoreGemv.Quad> stage, int quad, ulong descriptor)
        {
            // Warp w's rows of the 64-row A are its own operand, so each warp computes its m16 slice: A from the
            // published slot 0, B read from the stage in the canonical layout (8-row group i: quads quad + 16i +
            // 8·(k ≥ 8) + n), D in the thread's 64 accumulators (pair i: p at 4i, q at 4i + 2).
            int own = ((Warp.WarpIdx * 32) + Warp.LaneIdx) * 64;
            for (int i = 0; i < 16; i++)
            {
                ulong p = Interop.FloatAsInt(accumulators[own + (4 * i)]) | ((ulong)Interop.FloatAsInt(accumulators[own + (4 * i) + 1]) << 32);
                ulong q = Interop.FloatAsInt(accumulators[own + (4 * i) + 2]) | ((ulong)Interop.FloatAsInt(accumulators[own + (4 * i) + 3]) << 32);
                Chunk(ref p, ref q, stage, quad + (16 * i));
                accumulators[own + (4 * i)] = Interop.IntAsFloat((uint)p);
                accumulators[own + (4 * i) + 1] = Interop.IntAsFloat((uint)(p >> 32));
                accumulators[own + (4 * i) + 2] = Interop.IntAsFloat((uint)q);
                accumulators[own + (4 * i) + 3] = Interop.IntAsFloat((uint)(q >> 32));
            }
        }

        public readonly void GroupResult(out ulong p0, out ulong q0, out ulong p1, out ulong q1, out ulong p2, out ulong q2, out ulong p3, out ulong q3, out ulong p4, out ulong q4, out ulong p5, out ulong q5, out ulong p6, out ulong q6, out ulong p7, out ulong q7, out ulong p8, out ulong q8, out ulong p9, out ulong q9, out ulong p10, out ulong q10, out ulong p11, out ulong q11, out ulong p12, out ulong q12, out ulong p13, out ulong q13, out ulong p14, out ulong q14, out ulong p15, out ulong q15)
        {
            int own = ((Warp.WarpIdx * 32) + Warp.LaneIdx) * 64;
            p0 = Pair(0 + own);
            q0 = Pair(2 + own);
            p1 = Pair(4 + own);
            q1 = Pair(6 + own);
            p2 = Pair(8 + own);
            q2 = Pair(10 + own);
            p3 = Pair(12 + own);
            q3 = Pair(14 + own);
            p4 = Pair(16 + own);
            q4 = Pair(18 + own);
            p5 = Pair(20 + own);
            q5 = Pair(22 + own);
            p6 = Pair(24 + own);
            q6 = Pair(26 + own);
            p7 = Pair(28 + own);
            q7 = Pair(30 + own);
            p8 = Pair(32 + own);
            q8 = Pair(34 + own);
            p9 = Pair(36 + own);
            q9 = Pair(38 + own);
            p10 = Pair(40 + own);
            q10 = Pair(42 + own);
            p11 = Pair(44 + own);
            q11 = Pair(46 + own);
            p12 = Pair(48 + own);
            q12 = Pair(50 + own);
            p13 = Pair(52 + own);
            q13 = Pair(54 + own);
            p14 = Pair(56 + own);
            q14 = Pair(58 + own);
            p15 = Pair(60 + own);
            q15 = Pair(62 + own);
        }

        private readonly ulong Pair(int at) => Interop.FloatAsInt(accumulators[at]) | ((ulong)Interop.FloatAsInt(accumulators[at + 1]) << 32);

        private readonly void Chunk(ref ulong p, ref ulong q, ArrayView<TensorCoreGemv.Quad> stage, int quad)
        {
            int lane = Warp.LaneIdx, g = lane >> 2, t = lane & 3, at = Warp.WarpIdx * 32 * Slots;
            float p0 = Interop.IntAsFloat((uint)p), p1 = Interop.IntAsFloat((uint)(p >> 32));
            float q0 = Interop.IntAsFloat((uint)q), q1 = Interop.IntAsFloat((uint)(q >> 32));
            for (int k = 0; k < 4; k++)
            {
                // k-pairs k (columns 2k, 2k + 1) and k + 4 (2k + 8, 2k + 9): A from lane 4g + k, B word k of row n's quads.
                int a = at + (((4 * g) + k) * Slots);
                uint ra0 = exchange[a], ra1 = exchange[a + 1], ra2 = exchange[a + 2], ra3 = exchange[a + 3];
                var low0 = stage[quad + (2 * t)];
                var high0 = stage[quad + 8 + (2 * t)];
                var low1 = stage[quad + (2 * t) + 1];
                var high1 = stage[quad + 8 + (2 * t) + 1];
                Accumulate(ref p0, ref p1, ref q0, ref q1, ra0, ra1, ra2, ra3, Word(low0, k), Word(high0, k), Word(low1, k), Word(high1, k));
            }

            p = Interop.FloatAsInt(p0) | ((ulong)Interop.FloatAsInt(p1) << 32);
            q = Interop.FloatAsInt(q0) | ((ulong)Interop.FloatAsInt(q1) << 32);
        }

        private static uint Word(TensorCoreGemv.Quad quad, int k) => k == 0 ? quad.X : k == 1 ? quad.Y : k == 2 ? quad.Z : quad.W;

        public readonly uint SharedBase() => 0;

        public readonly void FenceAsync()
        {
        }

        public readonly void CopyAsync(ArrayView<TensorCoreGemv.Quad> stage, int to, uint sharedBase, ArrayView<TensorCoreGemv.Quad> source, int from, ulong sourceAddress)
            => stage[to] = source[from];

        public readonly void CopyAsync8(ArrayView<TensorCoreGemm.Duo> stage, int to, uint sharedBase, ArrayView<TensorCoreGemm.Duo> source, int from, ulong sourceAddress)
            => stage[to] = source[from];

        public readonly TensorCoreGemv.Quad LoadStreaming(ArrayView<TensorCoreGemv.Quad> source, long index, ulong address) => source[index];

        public readonly TensorCoreGemv.Quad LoadStreamingIf(ArrayView<TensorCoreGemv.Quad> source, long index, ulong address, bool load) => load ? source[index] : default;

        public readonly TensorCoreGemv.Quad LoadStreamingIfAt(ArrayView<TensorCoreGemv.Quad> source, long index, ulong at, bool load) => load ? source[index] : default;

        public readonly ulong LoadStreamingPair(ArrayView<ulong> source, long index, ulong address) => source[index];

        public readonly ulong LoadStreamingPairAt(ArrayView<ulong> source, long index, ulong at) => source[index];

        public readonly TensorCoreGemv.Quad LoadShared(ArrayView<TensorCoreGemv.Quad> stage, uint address) => stage[(int)(address / 16)];

        public readonly void StoreShared(ArrayView<TensorCoreGemv.Quad> stage, uint address, uint low, uint high)
        {
            var words = stage.Cast<uint>();
            words[(int)(address / 4)] = low;
            words[(int)(address / 4) + 1] = high;
        }

        public readonly void CommitCopies()
        {
        }

        public readonly void WaitForPrimary()
        {
        }

        public readonly void LaunchDependents()
        {
        }

        public readonly void WaitCopies(int pending)
        {
        }

        /// <summary>One k-quarter of an mma for lane (g, t): A rows g (ra0, ra2) and g + 8 (ra1, ra3) against B columns
        /// 2t (rb00, rb01) and 2t + 1 (rb10, rb11), k = 2q, 2q+1 from the first of each pair and 2q+8, 2q+9 from the second.</summary>
        private static void Accumulate(ref float p0, ref float p1, ref float q0, ref float q1, uint ra0, uint ra1, uint ra2, uint ra3, uint rb00, uint rb01, uint rb10, uint rb11)
        {
            p0 += Dot2(ra0, rb00) + Dot2(ra2, rb01);
            p1 += Dot2(ra0, rb10) + Dot2(ra2, rb11);
            q0 += Dot2(ra1, rb00) + Dot2(ra3, rb01);
            q1 += Dot2(ra1, rb10) + Dot2(ra3, rb11);
        }

        public readonly void Multiply(ref ulong p, ref ulong q, uint a0, uint a1, uint a2, uint a3, uint b0, uint b1)
        {
            int lane = Warp.LaneIdx, g = lane >> 2, t = lane & 3;
            int first = Exchange(a0, a1, a2, a3, b0, b1);
            float p0 = Interop.IntAsFloat((uint)p), p1 = Interop.IntAsFloat((uint)(p >> 32));
            float q0 = Interop.IntAsFloat((uint)q), q1 = Interop.IntAsFloat((uint)(q >> 32));
            for (int k = 0; k < 4; k++)
            {
                int a = (((4 * g) + k) * OperandWords) + first, b0At = (((8 * t) + k) * OperandWords) + first + 4, b1At = (((8 * t) + 4 + k) * OperandWords) + first + 4;
                Accumulate(ref p0, ref p1, ref q0, ref q1, operands[a], operands[a + 1], operands[a + 2], operands[a + 3], operands[b0At], operands[b0At + 1], operands[b1At], operands[b1At + 1]);
            }

            Warp.Barrier(); // every lane has read the operands before the warp's next mma writes its own
            p = Interop.FloatAsInt(p0) | ((ulong)Interop.FloatAsInt(p1) << 32);
            q = Interop.FloatAsInt(q0) | ((ulong)Interop.FloatAsInt(q1) << 32);
        }

        public readonly void MultiplyInt8(ref ulong p, ref ulong q, uint a0, uint a1, uint a2, uint a3, uint b0, uint b1)
        {
            // Lane (g, t) sums A rows g and g + 8 against B columns 2t and 2t + 1 over the four lanes t' of each: k 4t'…
            // from a0/a1 and b0, k 16 + 4t'… from a2/a3 and b1.
            int lane = Warp.LaneIdx, g = lane >> 2, t = lane & 3;
            int first = Exchange(a0, a1, a2, a3, b0, b1);
            int p0 = (int)(uint)p, p1 = (int)(uint)(p >> 32), q0 = (int)(uint)q, q1 = (int)(uint)(q >> 32);
            for (int k = 0; k < 4; k++)
            {
                int a = (((4 * g) + k) * OperandWords) + first, b0At = (((8 * t) + k) * OperandWords) + first + 4, b1At = (((8 * t) + 4 + k) * OperandWords) + first + 4;
                uint ra0 = operands[a], ra1 = operands[a + 1], ra2 = operands[a + 2], ra3 = operands[a + 3];
                uint rb00 = operands[b0At], rb01 = operands[b0At + 1], rb10 = operands[b1At], rb11 = operands[b1At + 1];
                p0 += Dot4(ra0, rb00) + Dot4(ra2, rb01);
                p1 += Dot4(ra0, rb10) + Dot4(ra2, rb11);
                q0 += Dot4(ra1, rb00) + Dot4(ra3, rb01);
                q1 += Dot4(ra1, rb10) + Dot4(ra3, rb11);
            }

            Warp.Barrier();
            p = (uint)p0 | ((ulong)(uint)p1 << 32);
            q = (uint)q0 | ((ulong)(uint)q1 << 32);
        }

        /// <summary>Σ of four unsigned bytes of <paramref name="a"/> times the signed bytes of <paramref name="b"/>.</summary>
        private static int Dot4(uint a, uint b)
            => ((int)(a & 0xFF) * (sbyte)(byte)b) + ((int)((a >> 8) & 0xFF) * (sbyte)(byte)(b >> 8))
                + ((int)((a >> 16) & 0xFF) * (sbyte)(byte)(b >> 16)) + ((int)(a >> 24) * (sbyte)(byte)(b >> 24));

        public uint DecodeScaled(uint word, uint mask, uint power, uint bias, uint scale)
        {
            // code − zero is an exact small integer, so the f32 fma gives the f16 one; the product rounds once.
            uint h = (word & mask) | 0x64006400u;
            uint d = Fp16.FromFloat((Fp16.ToFloat((ushort)h) * Fp16.ToFloat((ushort)power)) + Fp16.ToFloat((ushort)bias))
                | ((uint)Fp16.FromFloat((Fp16.ToFloat((ushort)(h >> 16)) * Fp16.ToFloat((ushort)(power >> 16))) + Fp16.ToFloat((ushort)(bias >> 16))) << 16);
            return MultiplyHalves(d, scale);
        }

        public readonly uint Decode(uint word, uint mask, uint power, uint bias)
        {
            uint h = (word & mask) | 0x64006400u;
            return Fp16.FromFloat((Fp16.ToFloat((ushort)h) * Fp16.ToFloat((ushort)power)) + Fp16.ToFloat((ushort)bias))
                | ((uint)Fp16.FromFloat((Fp16.ToFloat((ushort)(h >> 16)) * Fp16.ToFloat((ushort)(power >> 16))) + Fp16.ToFloat((ushort)(bias >> 16))) << 16);
        }

        public readonly uint DecodeOffset(uint word, uint mask, uint magic) => (word & mask) | magic;

        public readonly uint Select(uint a, uint b, uint select) => (a & select) | (b & ~select);

        public readonly float HalfToFloat(uint pair) => Fp16.ToFloat((ushort)pair);

        public readonly float MultiplyRounded(float a, float b) => a * b;

        public uint Pack(float low, float high) => Fp16.FromFloat(low) | ((uint)Fp16.FromFloat(high) << 16);
    }

    /// <summary>mul.rn.f16x2: the f32 product of two f16 values is exact (11 × 11 significant bits), so rounding it
    /// to f16 once is the PTX result.</summary>
    private static uint MultiplyHalves(uint a, uint b)
        => Fp16.FromFloat(Fp16.ToFloat((ushort)a) * Fp16.ToFloat((ushort)b))
            | ((uint)Fp16.FromFloat(Fp16.ToFloat((ushort)(a >> 16)) * Fp16.ToFloat((ushort)(b >> 16))) << 16);

    private static float Dot2(uint a, uint b)
        => (Fp16.ToFloat((ushort)a) * Fp16.ToFloat((ushort)b)) + (Fp16.ToFloat((ushort)(a >> 16)) * Fp16.ToFloat((ushort)(b >> 16)));
}
