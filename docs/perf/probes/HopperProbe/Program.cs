using System;
using System.Linq;
using System.Reflection;
using System.Runtime.InteropServices;
using Regex = System.Text.RegularExpressions.Regex;
using ILGPU;
using ILGPU.Backends;
using ILGPU.Backends.EntryPoints;
using ILGPU.Backends.PTX;
using ILGPU.Runtime;
using ILGPU.Runtime.Cuda;

namespace HopperProbe;

/// <summary>
/// Can a kernel that ILGPU 1.5.3 loads and launches use what Hopper GEMMs are built on? ILGPU compiles a stand-in kernel
/// with the probe's parameters (two views) and dynamic shared memory; its PTX is replaced, as KernelGen's PtxPeephole
/// replaces text, by hand-written PTX for sm_90a that
/// <list type="number">
/// <item>declares its cluster size with <c>.reqnctapercluster 2, 1, 1</c> (ILGPU launches with plain cuLaunchKernel, no
/// cluster attribute) and reports <c>%cluster_ctarank</c>, <c>%cluster_nctarank</c> and <c>%clusterid.x</c>;</item>
/// <item>reads its peer block's shared memory through <c>mapa</c> and <c>ld.shared::cluster</c>;</item>
/// <item>copies 4 KiB from global memory into both blocks' shared memory with one <c>cp.async.bulk</c> multicast
/// issued by rank 0, each block waiting on its own mbarrier (<c>expect_tx</c>, <c>try_wait.parity</c>);</item>
/// <item>writes and reads back its shared memory 100 KiB in, past the 48 KiB a launch gets without
/// <c>cuFuncSetAttribute(MAX_DYNAMIC_SHARED_SIZE_BYTES)</c>, which it calls through the CUfunction ILGPU holds.</item>
/// </list>
/// Every value is checked on the host; the exit code is 0 only if all of them are right.
/// </summary>
public static class Program
{
    private const int Blocks = 4, Threads = 128, DynamicBytes = 100 * 1024, Words = 1024;

    public static int Main()
    {
        using var context = Context.Create(builder => builder.Cuda());
        if (context.GetCudaDevices().Count == 0)
        {
            Console.WriteLine("no CUDA device");
            return 2;
        }

        using var accelerator = context.CreateCudaAccelerator(0);
        Console.WriteLine($"{accelerator.Name}, {accelerator.Capabilities}");

        const BindingFlags Any = BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Instance;
        var backend = (Backend)typeof(Accelerator).GetProperty("Backend", Any)!.GetValue(accelerator)!;
        var ptxField = typeof(PTXCompiledKernel).GetField("<PTXAssembly>k__BackingField", Any)!;
        var compiled = (PTXCompiledKernel)backend.Compile(EntryPointDescription.FromExplicitlyGroupedKernel(typeof(Program).GetMethod(nameof(StandIn), BindingFlags.NonPublic | BindingFlags.Static)!), KernelSpecialization.Empty);
        string ilgpu = compiled.PTXAssembly;
        string version = Regex.Match(ilgpu, @"\.version [0-9.]+").Value;
        var header = Regex.Match(ilgpu, @"\.visible \.entry \w+\([^)]*\)");
        var parameters = Regex.Matches(header.Value, @"\.param [^\n,]*?(\w+)\[16\]").Select(m => m.Groups[1].Value).ToArray();
        Console.WriteLine($"ILGPU's PTX: {version}; entry {header.Value.Replace('\n', ' ')}");
        if (parameters.Length != 2)
        {
            Console.WriteLine("FAILED: the stand-in's entry does not have two 16-byte view parameters");
            return 1;
        }

        string ptx = Ptx.Replace("VERSION", version).Replace("HEADER", header.Value).Replace("OUT", parameters[0]).Replace("SRC", parameters[1]);
        ptxField.SetValue(compiled, ptx);
        if (Environment.GetEnvironmentVariable("OUT") is { Length: > 0 } outDirectory)
        {
            System.IO.File.WriteAllText(System.IO.Path.Combine(outDirectory, "probe.ptx"), ptx); // for ptxas, if the load fails
        }

        var kernel = accelerator.LoadKernel(compiled);
        var function = (IntPtr)kernel.GetType().GetProperty("FunctionPtr", Any)!.GetValue(kernel)!;
        var launch = kernel.CreateLauncherDelegate<Action<AcceleratorStream, KernelConfig, ArrayView<uint>, ArrayView<uint>>>();
        Console.WriteLine($"loaded; cuFuncGetAttribute REQUIRED_CLUSTER_WIDTH {Attribute(function, 10)}, MAX_DYNAMIC_SHARED_SIZE_BYTES {Attribute(function, 8)}, NUM_REGS {Attribute(function, 4)}");

        var random = new Random(20261128);
        var source = Enumerable.Range(0, Words).Select(_ => (uint)random.NextInt64(1, 1L << 32)).ToArray();
        using var sourceBuffer = accelerator.Allocate1D(source);
        using var output = accelerator.Allocate1D<uint>(128 + (Blocks * Words));
        var config = new KernelConfig(new Index1D(Blocks), new Index1D(Threads), SharedMemoryConfig.RequestDynamic<byte>(DynamicBytes));

        // 1. As ILGPU launches it, without the opt-in for more than 48 KiB.
        output.MemSet(0xFF);
        try
        {
            launch(accelerator.DefaultStream, config, output.View, sourceBuffer.View);
            accelerator.Synchronize();
            Console.WriteLine("without the opt-in: the launch ran");
        }
        catch (Exception e)
        {
            Console.WriteLine($"without the opt-in: {e.GetType().Name}: {e.Message.Split('\n')[0]}");
        }

        // 2. With MAX_DYNAMIC_SHARED_SIZE_BYTES set on the function ILGPU loaded.
        int set = cuFuncSetAttribute(function, 8, DynamicBytes);
        Console.WriteLine($"cuFuncSetAttribute(MAX_DYNAMIC_SHARED_SIZE_BYTES, {DynamicBytes}) = {set}; now {Attribute(function, 8)}");
        output.MemSet(0xFF);
        launch(accelerator.DefaultStream, config, output.View, sourceBuffer.View);
        accelerator.Synchronize();
        var result = output.GetAsArray1D();

        int failures = 0;
        void Check(string what, long actual, long expected)
        {
            bool ok = actual == expected;
            failures += ok ? 0 : 1;
            Console.WriteLine($"  {what,-44} {actual,12} expected {expected,12} {(ok ? "ok" : "WRONG")}");
        }

        for (int b = 0; b < Blocks; b++)
        {
            Console.WriteLine($"block {b}:");
            Check("%cluster_ctarank", result[(b * 8) + 0], b % 2);
            Check("%cluster_nctarank", result[(b * 8) + 1], 2);
            Check("%clusterid.x", result[(b * 8) + 2], b / 2);
            Check("peer's ctaid through ld.shared::cluster", result[(b * 8) + 3], b ^ 1);
            Check("own word at 100 KiB - 4 of shared memory", result[(b * 8) + 4], b);
            int wrong = Enumerable.Range(0, Words).Count(i => result[128 + (b * Words) + i] != source[i]);
            Check("multicast words that differ from the source", wrong, 0);
        }

        Console.WriteLine(failures == 0 ? "ALL OK" : $"FAILED: {failures} checks");
        return failures == 0 ? 0 : 1;
    }

    private static int Attribute(IntPtr function, int attribute) => cuFuncGetAttribute(out int value, attribute, function) == 0 ? value : -1;

    [DllImport("libcuda.so.1")]
    private static extern int cuFuncSetAttribute(IntPtr function, int attribute, int value);

    [DllImport("libcuda.so.1")]
    private static extern int cuFuncGetAttribute(out int value, int attribute, IntPtr function);

    /// <summary>Compiled only for its entry's parameters and its use of dynamic shared memory; its PTX is replaced.</summary>
    private static void StandIn(ArrayView<uint> output, ArrayView<uint> source)
    {
        var shared = SharedMemory.GetDynamic<uint>();
        shared[Group.IdxX] = source[Group.IdxX];
        Group.Barrier();
        output[Grid.GlobalIndex.X] = shared[Group.IdxX];
    }

    /// <summary>The probe. Per block b, words 8b … 8b + 4 of the output: rank, cluster size, cluster id, the peer's
    /// ctaid read from its shared memory, the word this block wrote 100 KiB into its own; from word 128 + 1024·b, the
    /// 4 KiB that rank 0's multicast put into this block's shared memory.</summary>
    private const string Ptx = """
VERSION
.target sm_90a
.address_size 64

.extern .shared .align 128 .b8 kg_dyn[];

HEADER
.reqnctapercluster 2, 1, 1
{
	.reg .pred %p<8>;
	.reg .b16 %rs<4>;
	.reg .b32 %r<64>;
	.reg .b64 %rd<32>;

	ld.param.u64 %rd1, [OUT];
	ld.param.u64 %rd2, [SRC];
	cvta.to.global.u64 %rd3, %rd1;
	cvta.to.global.u64 %rd4, %rd2;
	mov.u32 %r1, %tid.x;
	mov.u32 %r2, %ctaid.x;
	mov.u32 %r3, %cluster_ctarank;
	mov.u32 %r4, %cluster_nctarank;
	mov.u32 %r5, %clusterid.x;
	mov.u64 %rd20, kg_dyn;
	cvt.u32.u64 %r10, %rd20;
	setp.eq.u32 %p1, %r1, 0;
	@!%p1 bra $L_init_done;
	st.shared.u32 [%r10+16], %r2;
	st.shared.u32 [%r10+102396], %r2;
	mbarrier.init.shared::cta.b64 [%r10], 1;
	fence.mbarrier_init.release.cluster;
$L_init_done:
	barrier.cluster.arrive.release.aligned;
	barrier.cluster.wait.acquire.aligned;
	xor.b32 %r11, %r3, 1;
	add.u32 %r12, %r10, 16;
	mapa.shared::cluster.u32 %r13, %r12, %r11;
	ld.shared::cluster.u32 %r14, [%r13];
	ld.shared.u32 %r15, [%r10+102396];
	@!%p1 bra $L_armed;
	mbarrier.arrive.expect_tx.shared::cta.b64 %rd5, [%r10], 4096;
$L_armed:
	barrier.cluster.arrive.release.aligned;
	barrier.cluster.wait.acquire.aligned;
	setp.eq.u32 %p2, %r3, 0;
	and.pred %p3, %p1, %p2;
	@!%p3 bra $L_wait;
	add.u32 %r16, %r10, 1024;
	mov.u16 %rs1, 3;
	cp.async.bulk.shared::cluster.global.mbarrier::complete_tx::bytes.multicast::cluster [%r16], [%rd4], 4096, [%r10], %rs1;
$L_wait:
	mbarrier.try_wait.parity.shared::cta.b64 %p4, [%r10], 0;
	@!%p4 bra $L_wait;
	@!%p1 bra $L_header_done;
	mul.wide.u32 %rd6, %r2, 32;
	add.s64 %rd7, %rd3, %rd6;
	st.global.u32 [%rd7], %r3;
	st.global.u32 [%rd7+4], %r4;
	st.global.u32 [%rd7+8], %r5;
	st.global.u32 [%rd7+12], %r14;
	st.global.u32 [%rd7+16], %r15;
$L_header_done:
	shl.b32 %r20, %r1, 5;
	add.u32 %r21, %r10, 1024;
	add.u32 %r22, %r21, %r20;
	ld.shared.v4.u32 {%r30, %r31, %r32, %r33}, [%r22];
	ld.shared.v4.u32 {%r34, %r35, %r36, %r37}, [%r22+16];
	mul.wide.u32 %rd8, %r2, 4096;
	cvt.u64.u32 %rd9, %r20;
	add.s64 %rd10, %rd8, %rd9;
	add.s64 %rd11, %rd3, %rd10;
	st.global.v4.u32 [%rd11+512], {%r30, %r31, %r32, %r33};
	st.global.v4.u32 [%rd11+528], {%r34, %r35, %r36, %r37};
	barrier.cluster.arrive.release.aligned;
	barrier.cluster.wait.acquire.aligned;
	ret;
}
""";
}
