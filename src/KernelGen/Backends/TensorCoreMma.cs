using System;
using ILGPU;
using ILGPU.Runtime;
using ILGPU.Runtime.Cuda;
using KernelGen.Quantization;

namespace KernelGen.Backends;

/// <summary>Shape of one <see cref="TensorCoreGemm"/> launch over row-major packed weights.</summary>
/// <param name="Rows">N (weight rows, outputs per activation row).</param>
/// <param name="Cols">K (a multiple of 32).</param>
/// <param name="Bits">Bits per code: 2, 4 or 8.</param>
/// <param name="GroupSize">Weights per scale along K (per-channel: K).</param>
/// <param name="GroupsPerRow">K / GroupSize.</param>
/// <param name="Symmetric">1 when the zero point is fixed at 2^(bits−1).</param>
/// <param name="M">Activation rows, 1 to 16.</param>
public readonly record struct TensorCoreShape(int Rows, int Cols, int Bits, int GroupSize, int GroupsPerRow, int Symmetric, int M);

/// <summary>
/// The <c>mma.sync.m16n8k16</c> building blocks of the tensor-core kernels: the inline-PTX form CUDA runs and an
/// emulation in the same fragment layout (warp shuffles) that ILGPU's CPU accelerator with 32-lane warps runs, so the
/// fragment bookkeeping of every kernel is tested without a GPU; only the asm strings need one.
/// </summary>
internal static class TensorCoreMma
{
    /// <summary>1024 + zero as an f16 pair (bits 0x6400 + zero), what the mma subtracts from B.</summary>
    internal static uint Offset(ArrayView<uint> zeros, TensorCoreShape s, long row, int group)
    {
        uint half = 0x6400u + (uint)Zero(zeros, s, (int)row, group);
        return half | (half << 16);
    }

    /// <summary>Two consecutive codes (at the word's low end) as f16 pairs of 1024 + code: 0x6400 | code, exact.</summary>
    internal static uint Codes(uint word, int bits, uint mask) => 0x64006400u | (word & mask) | (((word >> bits) & mask) << 16);

    private static int Zero(ArrayView<uint> zeros, TensorCoreShape s, int row, int group)
    {
        if (s.Symmetric != 0)
        {
            return 1 << (s.Bits - 1);
        }

        // One bit stream of b-bit codes over row-major [rows, groups], packed 32 codes per b words.
        long index = ((long)row * s.GroupsPerRow) + group;
        long bit = ((index >> 5) * s.Bits * 32) + ((index & 31) * s.Bits);
        return (int)((zeros[bit >> 5] >> (int)(bit & 31)) & ((1u << s.Bits) - 1));
    }

    /// <summary>The mma building blocks the tensor-core kernels are written against (PTX or emulated).</summary>
    internal interface IMma
    {
        /// <summary>(codes − offset) · scale per f16 half: <c>sub.f16x2</c> (exact for 1024 + code − (1024 + zero))
        /// then <c>mul.rn.f16x2</c> (one rounding).</summary>
        uint Dequantize(uint codes, uint offset, uint scale);

        /// <summary>Two floats rounded to nearest f16 (<c>cvt.rn.f16x2.f32</c>), <paramref name="low"/> in the low half.</summary>
        uint Pack(float low, float high);

        /// <summary>The whole m16n8k16 mma, B already in f16: <paramref name="p"/> (D rows g, columns 2t, 2t+1) and
        /// <paramref name="q"/> (rows g + 8) += A · B, with A's four registers as PTX orders them (a0: rows g, k 2t…;
        /// a1: rows g + 8; a2: rows g, k 2t + 8…; a3: rows g + 8, k 2t + 8…).</summary>
        void Multiply(ref ulong p, ref ulong q, uint a0, uint a1, uint a2, uint a3, uint b0, uint b1);

        /// <summary>D rows g += ones · B: this lane's <paramref name="p"/> gets Σ_k B[k, 2t] and Σ_k B[k, 2t+1].</summary>
        void MultiplyOnes(ref ulong p, uint b0, uint b1);

        /// <summary>A code pair to f16: <c>((word &amp; mask) | 0x6400_6400)</c> (one <c>lop3</c>: 1024 + code·2^s per
        /// half, exact) then <c>fma.rn.f16x2</c> by <paramref name="scale"/> (2^−s) and <paramref name="bias"/>
        /// (−1024·2^−s): the code, exactly.</summary>
        uint Decode(uint word, uint mask, uint scale, uint bias);

        /// <summary>Two whole mmas (k-blocks kb, kb + 1) with B already in f16: one statement for all of D.</summary>
        void MultiplyFull2(ref ulong p, ref ulong q, uint a0, uint a1, uint a2, uint a3, uint b00, uint b01, uint e0, uint e1, uint e2, uint e3, uint b10, uint b11);

        /// <summary>An f16 pair as two floats (<c>cvt.f32.f16</c>), the low half in the low word.</summary>
        ulong Widen(uint halves);
    }

    /// <summary>The CUDA form: sub.f16x2 then mma.sync in one inline-PTX statement.</summary>
    internal readonly struct PtxMma : IMma
    {
        public uint Dequantize(uint codes, uint offset, uint scale)
        {
            CudaAsm.Emit("{ .reg .b32 kt; sub.f16x2 kt, %1, %2; mul.rn.f16x2 %0, kt, %3; }", out uint d, codes, offset, scale);
            return d;
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

        public void MultiplyOnes(ref ulong p, uint b0, uint b1)
        {
            CudaAsm.Emit(
                "{ .reg .b32 kd<4>; .reg .b32 ko; mov.b32 ko, 0x3C003C00; mov.b64 {kd0, kd1}, %1; mov.b32 kd2, 0; mov.b32 kd3, 0; " +
                "mma.sync.aligned.m16n8k16.row.col.f32.f16.f16.f32 {kd0, kd1, kd2, kd3}, {ko, ko, ko, ko}, {%2, %3}, {kd0, kd1, kd2, kd3}; " +
                "mov.b64 %0, {kd0, kd1}; }",
                out ulong d,
                p,
                b0,
                b1);
            p = d;
        }

        public uint Decode(uint word, uint mask, uint scale, uint bias)
        {
            // One lop3 (ptxas splits a C# and-then-or with two constants into two), and constants through registers:
            // ILGPU writes constant operands as immediates, which fma.f16x2 does not take.
            CudaAsm.Emit(
                "{ .reg .b32 km, kt, ks, kb; mov.b32 km, %2; mov.b32 ks, %3; mov.b32 kb, %4; " +
                "lop3.b32 kt, %1, km, 0x64006400, 0xEA; fma.rn.f16x2 %0, kt, ks, kb; }",
                out uint d,
                word,
                mask,
                scale,
                bias);
            return d;
        }

        public void MultiplyFull2(ref ulong p, ref ulong q, uint a0, uint a1, uint a2, uint a3, uint b00, uint b01, uint e0, uint e1, uint e2, uint e3, uint b10, uint b11)
        {
            Output<ulong> dp = default, dq = default;
            Input<ulong> cp = p, cq = q;
            Input<uint> ia0 = a0, ia1 = a1, ia2 = a2, ia3 = a3, ib0 = b00, ib1 = b01, ie0 = e0, ie1 = e1, ie2 = e2, ie3 = e3, ic0 = b10, ic1 = b11;
            CudaAsm.EmitRef(
                "{ .reg .b32 kd<4>; mov.b64 {kd0, kd1}, %2; mov.b64 {kd2, kd3}, %3; " +
                "mma.sync.aligned.m16n8k16.row.col.f32.f16.f16.f32 {kd0, kd1, kd2, kd3}, {%4, %5, %6, %7}, {%8, %9}, {kd0, kd1, kd2, kd3}; " +
                "mma.sync.aligned.m16n8k16.row.col.f32.f16.f16.f32 {kd0, kd1, kd2, kd3}, {%10, %11, %12, %13}, {%14, %15}, {kd0, kd1, kd2, kd3}; " +
                "mov.b64 %0, {kd0, kd1}; mov.b64 %1, {kd2, kd3}; }",
                ref dp, ref dq, ref cp, ref cq, ref ia0, ref ia1, ref ia2, ref ia3, ref ib0, ref ib1, ref ie0, ref ie1, ref ie2, ref ie3, ref ic0, ref ic1);
            p = dp.Value;
            q = dq.Value;
        }

        public uint Pack(float low, float high)
        {
            CudaAsm.Emit("cvt.rn.f16x2.f32 %0, %2, %1;", out uint d, low, high);
            return d;
        }

        public ulong Widen(uint halves)
        {
            CudaAsm.Emit(
                "{ .reg .b16 kh<2>; .reg .f32 kf<2>; .reg .b32 kr<2>; mov.b32 {kh0, kh1}, %1; cvt.f32.f16 kf0, kh0; cvt.f32.f16 kf1, kh1; " +
                "mov.b32 kr0, kf0; mov.b32 kr1, kf1; mov.b64 %0, {kr0, kr1}; }",
                out ulong d,
                halves);
            return d;
        }
    }

    /// <summary>
    /// Everywhere else: the same arithmetic with the fragment layout of PTX's mma.m16n8k16 (.row.col), exchanging
    /// fragments by warp shuffles: lane (g, t) holds A row g at columns 2t, 2t+1 and 2t+8, 2t+9; B column g at rows
    /// 2t, 2t+1 (b0) and 2t+8, 2t+9 (b1); D row g at columns 2t, 2t+1.
    /// </summary>
    internal readonly struct EmulatedMma : IMma
    {
        /// <summary>One mma keeping D's rows g: A rows g from <paramref name="aLow"/> (k 2t, 2t+1) and
        /// <paramref name="aHigh"/> (2t+8, 2t+9), B column g from b0, b1 minus <paramref name="offset"/>.</summary>
        private static ulong Run(ulong c, uint aLow, uint aHigh, uint b0, uint b1, uint offset)
        {
            b0 = SubtractHalves(b0, offset);
            b1 = SubtractHalves(b1, offset);
            int lane = Warp.LaneIdx, g = lane >> 2, t = lane & 3;
            float c0 = Interop.IntAsFloat((uint)c), c1 = Interop.IntAsFloat((uint)(c >> 32));
            for (int q = 0; q < 4; q++)
            {
                int aLane = (4 * g) + q, bLane0 = (8 * t) + q, bLane1 = (8 * t) + 4 + q;
                uint ra0 = Warp.Shuffle(aLow, aLane), ra2 = Warp.Shuffle(aHigh, aLane);
                uint rb00 = Warp.Shuffle(b0, bLane0), rb01 = Warp.Shuffle(b1, bLane0), rb10 = Warp.Shuffle(b0, bLane1), rb11 = Warp.Shuffle(b1, bLane1);

                // k = 2q, 2q+1 from (aLow, b0) and k = 2q+8, 2q+9 from (aHigh, b1).
                c0 += Dot2(ra0, rb00) + Dot2(ra2, rb01);
                c1 += Dot2(ra0, rb10) + Dot2(ra2, rb11);
            }

            return Interop.FloatAsInt(c0) | ((ulong)Interop.FloatAsInt(c1) << 32);
        }

        /// <summary>Two k-blocks, rows g only, B already in f16 (subtracting +0 changes no f16 value).</summary>
        private static ulong Multiply2(ulong c, uint aLow0, uint aHigh0, uint b00, uint b01, uint aLow1, uint aHigh1, uint b10, uint b11)
            => Run(Run(c, aLow0, aHigh0, b00, b01, 0), aLow1, aHigh1, b10, b11, 0);

        public uint Dequantize(uint codes, uint offset, uint scale)
        {
            uint d = SubtractHalves(codes, offset);
            return MultiplyHalves(d, scale);
        }

        public void Multiply(ref ulong p, ref ulong q, uint a0, uint a1, uint a2, uint a3, uint b0, uint b1)
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
                p0 += Dot2(ra0, rb00) + Dot2(ra2, rb01);
                p1 += Dot2(ra0, rb10) + Dot2(ra2, rb11);
                q0 += Dot2(ra1, rb00) + Dot2(ra3, rb01);
                q1 += Dot2(ra1, rb10) + Dot2(ra3, rb11);
            }

            p = Interop.FloatAsInt(p0) | ((ulong)Interop.FloatAsInt(p1) << 32);
            q = Interop.FloatAsInt(q0) | ((ulong)Interop.FloatAsInt(q1) << 32);
        }

        public void MultiplyOnes(ref ulong p, uint b0, uint b1)
        {
            // A is all ones: D's columns 2t, 2t+1 are B's column sums; only B is exchanged.
            int t = Warp.LaneIdx & 3;
            float c0 = Interop.IntAsFloat((uint)p), c1 = Interop.IntAsFloat((uint)(p >> 32));
            for (int k = 0; k < 4; k++)
            {
                int bLane0 = (8 * t) + k, bLane1 = (8 * t) + 4 + k;
                uint rb00 = Warp.Shuffle(b0, bLane0), rb01 = Warp.Shuffle(b1, bLane0), rb10 = Warp.Shuffle(b0, bLane1), rb11 = Warp.Shuffle(b1, bLane1);
                c0 += Dot2(0x3C003C00u, rb00) + Dot2(0x3C003C00u, rb01);
                c1 += Dot2(0x3C003C00u, rb10) + Dot2(0x3C003C00u, rb11);
            }

            p = Interop.FloatAsInt(c0) | ((ulong)Interop.FloatAsInt(c1) << 32);
        }

        public uint Decode(uint word, uint mask, uint scale, uint bias)
        {
            // Exact integers throughout, so f32 arithmetic gives the f16 results.
            uint h = (word & mask) | 0x64006400u;
            return Fp16.FromFloat((Fp16.ToFloat((ushort)h) * Fp16.ToFloat((ushort)scale)) + Fp16.ToFloat((ushort)bias))
                | ((uint)Fp16.FromFloat((Fp16.ToFloat((ushort)(h >> 16)) * Fp16.ToFloat((ushort)(scale >> 16))) + Fp16.ToFloat((ushort)(bias >> 16))) << 16);
        }

        public void MultiplyFull2(ref ulong p, ref ulong q, uint a0, uint a1, uint a2, uint a3, uint b00, uint b01, uint e0, uint e1, uint e2, uint e3, uint b10, uint b11)
        {
            p = Multiply2(p, a0, a2, b00, b01, e0, e2, b10, b11);
            q = Multiply2(q, a1, a3, b00, b01, e1, e3, b10, b11);
        }

        public uint Pack(float low, float high) => Fp16.FromFloat(low) | ((uint)Fp16.FromFloat(high) << 16);

        public ulong Widen(uint halves)
            => Interop.FloatAsInt(Fp16.ToFloat((ushort)halves)) | ((ulong)Interop.FloatAsInt(Fp16.ToFloat((ushort)(halves >> 16))) << 32);
    }

    /// <summary>mul.rn.f16x2: the f32 product of two f16 values is exact (11 × 11 significant bits), so rounding it
    /// to f16 once is the PTX result.</summary>
    private static uint MultiplyHalves(uint a, uint b)
        => Fp16.FromFloat(Fp16.ToFloat((ushort)a) * Fp16.ToFloat((ushort)b))
            | ((uint)Fp16.FromFloat(Fp16.ToFloat((ushort)(a >> 16)) * Fp16.ToFloat((ushort)(b >> 16))) << 16);

    /// <summary>sub.f16x2 for exact small integers: (1024 + code) − (1024 + zero) per half, as f16 bits.</summary>
    private static uint SubtractHalves(uint a, uint b)
        => Fp16.FromFloat(Fp16.ToFloat((ushort)a) - Fp16.ToFloat((ushort)b))
            | ((uint)Fp16.FromFloat(Fp16.ToFloat((ushort)(a >> 16)) - Fp16.ToFloat((ushort)(b >> 16))) << 16);

    private static float Dot2(uint a, uint b)
        => (Fp16.ToFloat((ushort)a) * Fp16.ToFloat((ushort)b)) + (Fp16.ToFloat((ushort)(a >> 16)) * Fp16.ToFloat((ushort)(b >> 16)));
}
