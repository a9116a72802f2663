using System;
using System.Collections.Concurrent;
using System.Linq;
using System.Reflection;
using ILGPU;
using ILGPU.Backends.EntryPoints;
using ILGPU.Backends.PTX;
using ILGPU.Runtime;
using ILGPU.Runtime.Cuda;
using KernelGen.Backends;
using Xunit;

namespace KernelGen.Tests;

/// <summary>The PTX rewrite the CUDA tensor-core kernels load with, on the PTX ILGPU emits for them (no GPU needed
/// to compile PTX) and on hand-written cases. ILGPU's PTX backend takes 10–60 s per large kernel on one core: about
/// 4½ minutes in all (<see cref="LongCollectionAttribute"/>).</summary>
[Collection(PtxCollection.Name)]
public sealed class PtxPeepholeTests
{
    private static readonly ConcurrentDictionary<MethodInfo, Lazy<string>> Compiled = new();

    /// <summary>The PTX ILGPU emits for <paramref name="method"/> (sm_80, ISA 8.0, at the optimization level
    /// <see cref="ComputeDevice"/> uses: what <c>kernelgen ptx</c> writes), compiled once per test run: ILGPU's PTX backend
    /// takes 10–20 s on the large kernels, and several tests read the same one (the prepared M = 16 GEMV three).</summary>
    private static string Ptx(MethodInfo method) => Compiled.GetOrAdd(method, static m => new Lazy<string>(() =>
    {
        using var context = Context.Create(builder => builder.Cuda());
        using var backend = new PTXBackend(context, CudaArchitecture.SM_80, CudaInstructionSet.ISA_80, null!);
        return ((PTXCompiledKernel)backend.Compile(EntryPointDescription.FromExplicitlyGroupedKernel(m), KernelSpecialization.Empty)).PTXAssembly;
    })).Value;

    [Theory]
    [InlineData(typeof(TensorCoreGemv), "GemvKernel", typeof(TensorCoreGemv.Variant<TensorCoreGemv.C4, TensorCoreGemv.C0, TensorCoreGemv.C8, TensorCoreGemv.C0, TensorCoreGemv.C0, TensorCoreGemv.C8>), null)]
    [InlineData(typeof(TensorCoreGemv), "GemvKernel", typeof(TensorCoreGemv.Variant<TensorCoreGemv.C8, TensorCoreGemv.C2, TensorCoreGemv.C16, TensorCoreGemv.C0, TensorCoreGemv.C0, TensorCoreGemv.C8>), null)]
    [InlineData(typeof(TensorCoreGemv), "GemvKernel", typeof(TensorCoreGemv.Variant<TensorCoreGemv.C4, TensorCoreGemv.C0, TensorCoreGemv.C16, TensorCoreGemv.C0, TensorCoreGemv.C1, TensorCoreGemv.C8>), null)]
    [InlineData(typeof(TensorCoreGemv), "GemvKernel", typeof(TensorCoreGemv.Variant<TensorCoreGemv.C4, TensorCoreGemv.C0, TensorCoreGemv.C8, TensorCoreGemv.C3, TensorCoreGemv.C0, TensorCoreGemv.C8>), null)]
    [InlineData(typeof(TensorCoreGemv), "GemvKernel", typeof(TensorCoreGemv.Variant<TensorCoreGemv.C3, TensorCoreGemv.C8, TensorCoreGemv.C1, TensorCoreGemv.C0, TensorCoreGemv.C0, TensorCoreGemv.C8>), null)]
    [InlineData(typeof(TensorCoreGemv), "GemvKernel", typeof(TensorCoreGemv.Variant<TensorCoreGemv.C3, TensorCoreGemv.C8, TensorCoreGemv.C16, TensorCoreGemv.C0, TensorCoreGemv.C1, TensorCoreGemv.C8>), null)]
    [InlineData(typeof(TensorCoreGemm), "GemmKernel", typeof(TensorCoreGemv.C4), null)]
    [InlineData(typeof(TensorCoreGemm), "WarpGroupKernel", typeof(TensorCoreGemv.C4), typeof(TensorCoreGemv.C0))]
    [InlineData(typeof(TensorCoreGemm), "PrepareKernel", null, null)] // x → B fragments: two cvt.rn.f16x2.f32
    public void TensorCoreKernels_LoseEveryLocalMemoryRoundTrip(Type type, string kernel, Type? variant, Type? second)
    {
        var mma = typeof(TensorCoreMma.PtxMma);
        var generic = type.GetMethod(kernel, BindingFlags.NonPublic | BindingFlags.Static)!;
        string ptx = Ptx(generic.MakeGenericMethod(new[] { mma, variant, second }.OfType<Type>().ToArray()));
        int loads = ptx.Split('\n').Count(l => l.Contains("ld.local", StringComparison.Ordinal));
        Assert.True(loads > 0, "ILGPU no longer routes asm outputs through local memory: the rewrite may be obsolete");

        string patched = PtxPeephole.ForwardLocalStores(ptx, out int forwarded);
        Assert.Equal(loads, forwarded);
        Assert.DoesNotContain("ld.local", patched, StringComparison.Ordinal);
        Assert.DoesNotContain("st.local", patched, StringComparison.Ordinal);
        Assert.DoesNotContain("__local_depot", patched, StringComparison.Ordinal); // no stack frame left to reserve
        int removed = ptx.Split('\n').Count(l => l.Contains("st.local", StringComparison.Ordinal) || l.Contains("__local_depot", StringComparison.Ordinal));
        Assert.Equal(ptx.Count(c => c == '\n') - patched.Count(c => c == '\n'), removed);
        Assert.Equal(ptx.Split('\n').Count(l => l.Contains("mma.sync", StringComparison.Ordinal)), patched.Split('\n').Count(l => l.Contains("mma.sync", StringComparison.Ordinal)));
    }

    [Fact]
    public void LoadsAreForwardedFromTheirStoreInStraightLineCode_AndStoresStayWhileAnythingReadsThem()
    {
        // Forwarded: %r6 (adjacent), %rd9 (two lines later, %rd7 unchanged). Kept: %r10 (no store to %rd4),
        // %r12 (a label between), %r14 (%r13 written between), %r16 (the slot is read by a vector load between).
        const string ptx = "\tst.local.b32\t[%rd1], %r5;\n\tld.local.b32\t%r6, [%rd1];\n\tst.local.b64\t[%rd2], %rd7;\n\tadd.s32\t%r8, %r6, 1;\n\tld.local.b64\t%rd9, [%rd2];\n"
            + "\tst.local.b32\t[%rd3], 0;\n\tld.local.b32\t%r10, [%rd4];\n"
            + "\tst.local.b32\t[%rd5], %r11;\nL_1:\n\tld.local.b32\t%r12, [%rd5];\n"
            + "\tst.local.b32\t[%rd6], %r13;\n\tadd.s32\t%r13, %r13, 1;\n\tld.local.b32\t%r14, [%rd6];\n"
            + "\tst.local.b32\t[%rd8], %r15;\n\tld.local.v2.b32\t{%r1, %r2}, [%rd8];\n\tld.local.b32\t%r16, [%rd8];";
        string patched = PtxPeephole.ForwardLocalStores(ptx, out int forwarded);
        Assert.Equal(2, forwarded);
        Assert.Equal(ptx.Replace("ld.local.b32\t%r6, [%rd1]", "mov.b32\t%r6, %r5", StringComparison.Ordinal).Replace("ld.local.b64\t%rd9, [%rd2]", "mov.b64\t%rd9, %rd7", StringComparison.Ordinal), patched);

        const string forwardable = "\t.local .align 4 .b8 __local_depot0[4];\n\tmov.b64\t%rd1, __local_depot0;\n\tst.local.b32\t[%rd1], 0;\n\tst.local.b32\t[%rd1], %r5;\n\tld.local.b32\t%r6, [%rd1];\n\tret;";
        Assert.Equal("\tmov.b32\t%r6, %r5;\n\tret;", PtxPeephole.ForwardLocalStores(forwardable, out forwarded));
        const string addressUsed = "\tmov.b64\t%rd1, __local_depot0;\n\tst.local.b32\t[%rd1], %r5;\n\tld.local.b32\t%r6, [%rd1];\n\tadd.u64\t%rd2, %rd1, 4;";
        Assert.Equal("\tmov.b64\t%rd1, __local_depot0;\n\tmov.b32\t%r6, %r5;\n\tadd.u64\t%rd2, %rd1, 4;", PtxPeephole.ForwardLocalStores(addressUsed, out _));
        Assert.Equal(1, forwarded);
        const string nothing = "\tadd.s32\t%r1, %r2, %r3;";
        Assert.Same(nothing, PtxPeephole.ForwardLocalStores(nothing, out forwarded));
        Assert.Equal(0, forwarded);
    }

    [Fact]
    public void TheIlgpuInternalsItNeeds_AreThere()
    {
        // ILGPU 1.5.3 keeps the compiled kernel's constructor and entry point internal; KernelCache reaches them by
        // reflection to load patched PTX (and falls back to replacing the PTX field in place if they move). This fails
        // first when an upgrade moves them.
        const BindingFlags any = BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Instance;
        Assert.NotNull(typeof(PTXCompiledKernel).GetConstructor(any, [typeof(Context), typeof(EntryPoint), typeof(ILGPU.Backends.CompiledKernel.KernelInfo), typeof(string)]));
        Assert.NotNull(typeof(ILGPU.Backends.CompiledKernel).GetProperty("EntryPoint", any));
        Assert.NotNull(typeof(PTXCompiledKernel).GetField("<PTXAssembly>k__BackingField", any));
    }

    [Fact]
    public void RegisterLimit_GoesBetweenTheEntrysParametersAndItsBody()
    {
        const string ptx = ".version 8.0\n.target sm_80\n.visible .entry Kernel_K(\n\t.param .b64 _a[8]\n)\n{\n\tret;\n}\n";
        Assert.Equal(
            ".version 8.0\n.target sm_80\n.visible .entry Kernel_K(\n\t.param .b64 _a[8]\n)\n.maxnreg 128\n{\n\tret;\n}\n",
            PtxPeephole.LimitRegisters(ptx, 128));
        Assert.Same(ptx, PtxPeephole.LimitRegisters(ptx, 0));
        Assert.Equal(".version 8.0\n", PtxPeephole.LimitRegisters(".version 8.0\n", 64)); // no entry: unchanged
    }

    [Fact]
    public void WarpGroupKernel_IsRetargetedWithItsSharedMemoryAndAccumulatorsBound()
    {
        var method = typeof(TensorCoreGemm).GetMethod("WarpGroupKernel", BindingFlags.NonPublic | BindingFlags.Static)!
            .MakeGenericMethod(typeof(TensorCoreMma.PtxMma), typeof(TensorCoreGemv.C4), typeof(TensorCoreGemv.C0));
        string ptx = PtxPeephole.ForwardLocalStores(Ptx(method), out _);
        Assert.Contains(PtxPeephole.SharedSymbol, ptx, StringComparison.Ordinal);

        string patched = PtxPeephole.LimitRegisters(PtxPeephole.TargetWarpGroups(PtxPeephole.BindSharedSymbol(ptx)), 128);
        Assert.DoesNotContain(PtxPeephole.SharedSymbol, patched, StringComparison.Ordinal);
        Assert.Contains(".target sm_90a\n", patched, StringComparison.Ordinal);
        Assert.DoesNotContain("sm_80", patched, StringComparison.Ordinal);
        Assert.Contains(")\n.maxnreg 128\n{\n\t.reg .b32\tkgacc<64>;\n", patched, StringComparison.Ordinal); // declared once, first in the body
        Assert.Single(patched.Split('\n'), l => l.Contains("kgacc<", StringComparison.Ordinal));
        string shared = System.Text.RegularExpressions.Regex.Match(patched, @"\.shared \.align 128 \.b8 (__shared_alloca\d+)\[").Groups[1].Value;
        Assert.Contains("mov.b64 ka, " + shared + ";", patched, StringComparison.Ordinal);

        // 4-bit: a slab is 8 k-blocks, one mma each; the copies run ahead of them.
        Assert.Equal(8, patched.Split('\n').Count(l => l.Contains("wgmma.mma_async.sync.aligned.m64n128k16", StringComparison.Ordinal)));
        Assert.Contains("cp.async.cg.shared.global", patched, StringComparison.Ordinal);
        Assert.Contains("fence.proxy.async.shared::cta;", patched, StringComparison.Ordinal);
    }

    [Fact]
    public void SharedSymbol_NeedsExactlyOneSharedAllocation()
    {
        const string one = ".shared .align 16 .b8 __shared_alloca3[64];\n\tmov.b64 ka, __kernelgen_shared;";
        Assert.Equal(".shared .align 128 .b8 __shared_alloca3[64];\n\tmov.b64 ka, __shared_alloca3;", PtxPeephole.BindSharedSymbol(one));
        const string none = "\tmov.b64 ka, __kernelgen_shared;";
        Assert.Contains("0 shared allocations", Assert.Throws<InvalidOperationException>(() => PtxPeephole.BindSharedSymbol(none)).Message, StringComparison.Ordinal);
        const string two = ".shared .align 4 .b8 __shared_alloca0[4];\n.shared .align 16 .b8 __shared_alloca1[64];\n\tmov.b64 ka, __kernelgen_shared;";
        Assert.Contains("2 shared allocations", Assert.Throws<InvalidOperationException>(() => PtxPeephole.BindSharedSymbol(two)).Message, StringComparison.Ordinal);
        const string unused = ".shared .align 4 .b8 __shared_alloca0[4];\n";
        Assert.Same(unused, PtxPeephole.BindSharedSymbol(unused));
        Assert.Equal(".target sm_90a\n", PtxPeephole.TargetWarpGroups(".target sm_80\n")); // no accumulators: target only
    }

    [Fact]
    public void DependentLaunchMarkers_BecomeGriddepcontrol_OnAnSm90Target()
    {
        const string ptx = ".version 8.0\n.target sm_80\n.address_size 64\n{\n\t" + PtxPeephole.WaitMarker + "\n\tld.v4.b32\t{%r1, %r2, %r3, %r4}, [%rd1];\n}\n";
        string enabled = PtxPeephole.EnableDependentLaunch(ptx);
        Assert.Equal(".version 8.0\n.target sm_90\n.address_size 64\n{\n\tgriddepcontrol.wait;\n\tld.v4.b32\t{%r1, %r2, %r3, %r4}, [%rd1];\n}\n", enabled);

        const string release = ".target sm_90a\n\t" + PtxPeephole.LaunchMarker + "\n";
        Assert.Equal(".target sm_90a\n\tgriddepcontrol.launch_dependents;\n", PtxPeephole.EnableDependentLaunch(release)); // sm_90a already has it
        const string none = ".target sm_80\n\tret;\n";
        Assert.Same(none, PtxPeephole.EnableDependentLaunch(none)); // no marker: the target stays sm_80 for older cards
        Assert.Contains(PtxPeephole.WaitMarker, PtxPeephole.Patch(ptx, 0, warpGroup: false), StringComparison.Ordinal); // off: a comment
    }

    [Fact]
    public void PreparedGemv_WaitsForXsConversion_WhichReleasesIt_AndNothingElseDoes()
    {
        static string Compile(MethodInfo method) => Ptx(method);
        var gemv = typeof(TensorCoreGemv).GetMethod("GemvKernel", BindingFlags.NonPublic | BindingFlags.Static)!;
        var mma = typeof(TensorCoreMma.PtxMma);
        static int Count(string text, string what) => text.Split('\n').Count(line => line.Contains(what, StringComparison.Ordinal));

        // M = 1 (x in shared memory, read from x itself) before the prepared M = 16 variant, as a decode then a batch loads them.
        string single = Compile(gemv.MakeGenericMethod(mma, typeof(TensorCoreGemv.Variant<TensorCoreGemv.C4, TensorCoreGemv.C0, TensorCoreGemv.C1, TensorCoreGemv.C0, TensorCoreGemv.C0, TensorCoreGemv.C8>)));
        string prepared = Compile(gemv.MakeGenericMethod(mma, typeof(TensorCoreGemv.Variant<TensorCoreGemv.C4, TensorCoreGemv.C0, TensorCoreGemv.C16, TensorCoreGemv.C0, TensorCoreGemv.C1, TensorCoreGemv.C8>)));
        string prepare = Compile(typeof(TensorCoreGemm).GetMethod("PrepareKernel", BindingFlags.NonPublic | BindingFlags.Static)!.MakeGenericMethod(mma));
        Assert.Equal(0, Count(single, PtxPeephole.WaitMarker));
        Assert.Equal(1, Count(prepared, PtxPeephole.WaitMarker));
        Assert.Equal(1, Count(prepare, PtxPeephole.LaunchMarker));

        string enabled = PtxPeephole.Patch(prepared, 128, warpGroup: false, dependentLaunch: true);
        Assert.Equal(1, Count(enabled, "griddepcontrol.wait;"));
        Assert.Contains(".target sm_90\n", enabled, StringComparison.Ordinal);
        Assert.Equal(PtxPeephole.Patch(single, 128, warpGroup: false), PtxPeephole.Patch(single, 128, warpGroup: false, dependentLaunch: true)); // untouched

        // The wait comes before the first read of the fragment buffer: the entry's fifth parameter.
        string fragments = System.Text.RegularExpressions.Regex.Match(enabled, @"\[(_fragments_\d+)\]").Groups[1].Value;
        int wait = enabled.IndexOf("griddepcontrol.wait;", StringComparison.Ordinal);
        int firstRead = System.Text.RegularExpressions.Regex.Match(enabled, @"ld\.(global\.|)[^\n]*\[%rd\d+\]").Index;
        Assert.NotEmpty(fragments);
        Assert.True(wait < firstRead, "griddepcontrol.wait must precede every load of device memory after the parameters");
    }

    [Fact]
    public void DependentLaunchParameters_AreLaidOutAsTheGemvEntryDeclaresThem()
    {
        // LaunchDependent passes six views, the shape and the weights' address by pointer, as cuLaunchKernelEx wants;
        // their sizes must be those of the PTX entry's parameters (a changed kernel signature fails here, not on a GPU).
        var method = typeof(TensorCoreGemv).GetMethod("GemvKernel", BindingFlags.NonPublic | BindingFlags.Static)!
            .MakeGenericMethod(typeof(TensorCoreMma.PtxMma), typeof(TensorCoreGemv.Variant<TensorCoreGemv.C4, TensorCoreGemv.C0, TensorCoreGemv.C16, TensorCoreGemv.C0, TensorCoreGemv.C1, TensorCoreGemv.C8>));
        string ptx = Ptx(method);
        string entry = ptx[ptx.IndexOf(".entry", StringComparison.Ordinal)..ptx.IndexOf("\n)\n", StringComparison.Ordinal)];
        var sizes = System.Text.RegularExpressions.Regex.Matches(entry, @"\.param (?:\.align \d+ \.b8 _\w+\[(?<bytes>\d+)\]|\.b(?<bits>\d+) _\w+)")
            .Select(m => m.Groups["bytes"].Success ? int.Parse(m.Groups["bytes"].Value, System.Globalization.CultureInfo.InvariantCulture) : int.Parse(m.Groups["bits"].Value, System.Globalization.CultureInfo.InvariantCulture) / 8)
            .ToArray();
        int view = System.Runtime.CompilerServices.Unsafe.SizeOf<DependentLaunch.View>();
        Assert.Equal([view, view, view, view, view, view, System.Runtime.CompilerServices.Unsafe.SizeOf<TensorCoreGemvShape>(), sizeof(ulong)], sizes);
        Assert.Equal(16, view);
        Assert.Equal((0, 8), ((int)System.Runtime.InteropServices.Marshal.OffsetOf<DependentLaunch.View>(nameof(DependentLaunch.View.Address)), (int)System.Runtime.InteropServices.Marshal.OffsetOf<DependentLaunch.View>(nameof(DependentLaunch.View.Length))));
    }

    [Theory]
    [InlineData("GemvKernel", 4)]
    [InlineData("GemvKernel", 3)]
    [InlineData("BatchKernel", 4)]
    [InlineData("ByteKernel", 8)]
    public void Int8ActivationKernels_ConvertSumsAsSigned_AndTakeTheDependentLaunchsParameters(string kernel, int bits)
    {
        // The integer mma's sums are signed; ILGPU emits (float)(int)(uint)v as cvt.rn.f32.u32, which the CPU accelerator
        // (plain .NET) cannot show: the batch kernel's first form gave rel.err 1e6 on an H200 (perf/gemv.md, session 27).
        var mma = typeof(TensorCoreMma.PtxMma);
        Type c0 = typeof(TensorCoreGemv.C0), c1 = typeof(TensorCoreGemv.C1);
        Type[] arguments = (kernel, bits) switch
        {
            ("GemvKernel", 4) => [mma, c0, typeof(TensorCoreGemv.C8), c0, c1, c0], // asymmetric, 8 warps, nibbles
            ("GemvKernel", _) => [mma, c0, typeof(TensorCoreGemv.C4), c1, c0, c1], // 3-bit (third bits merged), groups per unit pair
            ("ByteKernel", _) => [mma, c1, typeof(TensorCoreGemv.C8), c1, c1, c1], // 8-bit symmetric per channel, M > 8
            _ => [mma, typeof(TensorCoreGemv.C4), c0, typeof(TensorCoreGemv.C8), c1, c1, c1], // 4-bit, M > 8, groups shared by a slab, loaded with x
        };
        string ptx = Ptx(typeof(Int8ActivationGemv).GetMethod(kernel, BindingFlags.NonPublic | BindingFlags.Static)!.MakeGenericMethod(arguments));
        Assert.Contains("m16n8k32", ptx, StringComparison.Ordinal);
        Assert.DoesNotContain("cvt.rn.f32.u32", ptx, StringComparison.Ordinal);
        if (kernel == "BatchKernel")
        {
            // Groups shared by a unit pair: the sums go to float through ExactFloat (1.5·2^23 added to the bits, then
            // taken off as a float), which is signed by construction; no conversion instruction is left.
            Assert.Contains("0f4B400000", ptx, StringComparison.Ordinal);
            Assert.DoesNotContain("cvt.rn.f32.s32", ptx, StringComparison.Ordinal);
        }
        else
        {
            Assert.Contains("cvt.rn.f32.s32", ptx, StringComparison.Ordinal);
        }

        if (kernel == "GemvKernel")
        {
            // Decode (perf/gemv.md, session 35): lanes t and t ^ 1 trade a row's integer sum before one flush, and the
            // next slab's weights are a predicated load, not a load behind a branch.
            Assert.Contains("shfl.sync.bfly", ptx, StringComparison.Ordinal);
            // (Three sets of four tiles: the first slab and each of the loop's two; 32ee64f's loop, with plain loads behind
            // a branch, had none.)
            int predicated = System.Text.RegularExpressions.Regex.Matches(ptx, @"@kp ld\.global\.nc\.L1::no_allocate\.v4\.u32").Count;
            Assert.True(predicated >= 12, $"{predicated} predicated weight loads");
        }

        if (bits == 3)
        {
            // 3-bit codes' third bits stream past L1 as the low plane does (generic loads were 2–4 % slower).
            Assert.Contains("ld.global.nc.L1::no_allocate.v2.u32", ptx, StringComparison.Ordinal);
        }

        string entry = ptx[ptx.IndexOf(".entry", StringComparison.Ordinal)..ptx.IndexOf("\n)\n", StringComparison.Ordinal)];
        var sizes = System.Text.RegularExpressions.Regex.Matches(entry, @"\.param (?:\.align \d+ \.b8 _\w+\[(?<bytes>\d+)\]|\.b(?<bits>\d+) _\w+)")
            .Select(m => m.Groups["bytes"].Success ? int.Parse(m.Groups["bytes"].Value, System.Globalization.CultureInfo.InvariantCulture) : int.Parse(m.Groups["bits"].Value, System.Globalization.CultureInfo.InvariantCulture) / 8)
            .ToArray();
        int view = System.Runtime.CompilerServices.Unsafe.SizeOf<DependentLaunch.View>();
        int shape = kernel == "GemvKernel" ? System.Runtime.CompilerServices.Unsafe.SizeOf<Int8ActivationGemvShape>() : System.Runtime.CompilerServices.Unsafe.SizeOf<Int8ActivationBatchShape>();
        Assert.Equal([view, view, view, view, view, shape, sizeof(ulong)], sizes);
    }

    [Theory]
    [InlineData("QuantizeKernel")]
    [InlineData("QuantizeBatchKernel")]
    public void ActivationRounding_KeepsItsProductsUnfused(string kernel)
    {
        // round(x · 127/|x|max) adds 1.5·2^23 to the product; ptxas contracts a plain mul.f32 + add.f32 into one fma, which
        // rounds a product within an ulp of a half differently from the host (rel.err 1e-4 on an H200, session 27).
        var method = typeof(Int8ActivationGemv).GetMethod(kernel, BindingFlags.NonPublic | BindingFlags.Static)!.MakeGenericMethod(typeof(TensorCoreMma.PtxMma));
        string ptx = PtxPeephole.ForwardLocalStores(Ptx(method), out _);
        var lines = ptx.Split('\n');
        Assert.Equal(4, lines.Count(l => l.Contains("mul.rn.f32", StringComparison.Ordinal)));
        Assert.Contains(lines, l => l.Contains("div.rn.f32", StringComparison.Ordinal));

        // Each of the four additions of 1.5·2^23 takes a register that a mul.rn.f32 wrote (directly or through one mov).
        string Writer(string register) => lines.Single(l => System.Text.RegularExpressions.Regex.IsMatch(l, @"^\s*[a-z][\w.]*\s+" + System.Text.RegularExpressions.Regex.Escape(register) + ","));
        var additions = lines.Where(l => l.Contains("0f4B400000", StringComparison.Ordinal) && l.TrimStart().StartsWith("add.", StringComparison.Ordinal)).ToArray();
        Assert.Equal(4, additions.Length);
        foreach (string addition in additions)
        {
            string source = System.Text.RegularExpressions.Regex.Match(addition, @",\s*(%f\d+),").Groups[1].Value;
            string writer = Writer(source);
            if (writer.TrimStart().StartsWith("mov.", StringComparison.Ordinal))
            {
                writer = Writer(System.Text.RegularExpressions.Regex.Match(writer, @",\s*(%f\d+);").Groups[1].Value);
            }

            Assert.Contains("mul.rn.f32", writer, StringComparison.Ordinal);
        }
    }
}

/// <summary>PtxPeepholeTests' collection, started first (<see cref="LongCollectionsFirst"/>).</summary>
[CollectionDefinition(Name)]
[LongCollection(4.5)]
public sealed class PtxCollection
{
    public const string Name = "ptx";
}
