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

        /// <summary>Two floats rounded to nearest f16 (<c>cvt.rn.f16x2.f32</c>), <paramref name="low"/> in the low half.</summary>
        uint Pack(float low, float high);

        /// <summary>The whole m16n8k16 mma, B already in f16: <paramref name="p"/> (D rows g, columns 2t, 2t+1) and
        /// <paramref name="q"/> (rows g + 8) += A · B, with A's four registers as PTX orders them (a0: rows g, k 2t…;
        /// a1: rows g + 8; a2: rows g, k 2t + 8…; a3: rows g + 8, k 2t + 8…).</summary>
        void Multiply(ref ulong p, ref ulong q, uint a0, uint a1, uint a2, uint a3, uint b0, uint b1);

        /// <summary>A code pair to scaled f16 weights: <c>((word &amp; mask) | 0x6400_6400)</c> (one <c>lop3</c>: 1024 +
        /// code·2^s per half), then <c>fma.rn.f16x2</c> by <paramref name="power"/> (2^−s) and <paramref name="bias"/>
        /// (−(1024·2^−s + zero)): code − zero, exactly; then <c>mul.rn.f16x2</c> by <paramref name="scale"/> (one rounding).</summary>
        uint DecodeScaled(uint word, uint mask, uint power, uint bias, uint scale);
    }

    /// <summary>The CUDA form: sub.f16x2 then mma.sync in one inline-PTX statement.</summary>
    internal readonly struct PtxMma : IMma
    {
        public void Allocate()
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

        public void Allocate() => exchange = SharedMemory.Allocate<uint>(MaxWarps * 32 * Slots);

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
            // Rows g and g + 8 share B's shuffles (the CPU accelerator's shuffles are what the tests spend time on).
            int lane = Warp.LaneIdx, g = lane >> 2, t = lane & 3;
            float p0 = Interop.IntAsFloat((uint)p), p1 = Interop.IntAsFloat((uint)(p >> 32));
            float q0 = Interop.IntAsFloat((uint)q), q1 = Interop.IntAsFloat((uint)(q >> 32));
            for (int k = 0; k < 4; k++)
            {
                int aLane = (4 * g) + k, bLane0 = (8 * t) + k, bLane1 = (8 * t) + 4 + k;
                uint ra0 = Warp.Shuffle(a0, aLane), ra1 = Warp.Shuffle(a1, aLane), ra2 = Warp.Shuffle(a2, aLane), ra3 = Warp.Shuffle(a3, aLane);
                uint rb00 = Warp.Shuffle(b0, bLane0), rb01 = Warp.Shuffle(b1, bLane0), rb10 = Warp.Shuffle(b0, bLane1), rb11 = Warp.Shuffle(b1, bLane1);
                Accumulate(ref p0, ref p1, ref q0, ref q1, ra0, ra1, ra2, ra3, rb00, rb01, rb10, rb11);
            }

            p = Interop.FloatAsInt(p0) | ((ulong)Interop.FloatAsInt(p1) << 32);
            q = Interop.FloatAsInt(q0) | ((ulong)Interop.FloatAsInt(q1) << 32);
        }

        public uint DecodeScaled(uint word, uint mask, uint power, uint bias, uint scale)
        {
            // code − zero is an exact small integer, so the f32 fma gives the f16 one; the product rounds once.
            uint h = (word & mask) | 0x64006400u;
            uint d = Fp16.FromFloat((Fp16.ToFloat((ushort)h) * Fp16.ToFloat((ushort)power)) + Fp16.ToFloat((ushort)bias))
                | ((uint)Fp16.FromFloat((Fp16.ToFloat((ushort)(h >> 16)) * Fp16.ToFloat((ushort)(power >> 16))) + Fp16.ToFloat((ushort)(bias >> 16))) << 16);
            return MultiplyHalves(d, scale);
        }

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
