using System;
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
/// to compile PTX) and on hand-written cases.</summary>
public sealed class PtxPeepholeTests
{
    [Theory]
    [InlineData(typeof(TensorCoreGemv), "GemvKernel")]
    [InlineData(typeof(TensorCoreGemm), "GemmKernel")]
    public void TensorCoreKernels_LoseEveryLocalMemoryRoundTrip(Type type, string kernel)
    {
        using var context = Context.Create(builder => builder.Cuda().Optimize(OptimizationLevel.O2));
        using var backend = new PTXBackend(context, CudaArchitecture.SM_80, CudaInstructionSet.ISA_80, null!);
        var mma = typeof(TensorCoreGemv).GetNestedType("PtxMma", BindingFlags.NonPublic)!;
        var method = type.GetMethod(kernel, BindingFlags.NonPublic | BindingFlags.Static)!.MakeGenericMethod(mma);
        string ptx = ((PTXCompiledKernel)backend.Compile(EntryPointDescription.FromExplicitlyGroupedKernel(method), KernelSpecialization.Empty)).PTXAssembly;
        int loads = ptx.Split('\n').Count(l => l.Contains("ld.local", StringComparison.Ordinal));
        Assert.True(loads > 0, "ILGPU no longer routes asm outputs through local memory: the rewrite may be obsolete");

        string patched = PtxPeephole.ForwardLocalStores(ptx, out int forwarded);
        Assert.Equal(loads, forwarded);
        Assert.DoesNotContain("ld.local", patched, StringComparison.Ordinal);
        Assert.DoesNotContain("st.local", patched, StringComparison.Ordinal);
        Assert.Equal(ptx.Count(c => c == '\n') - patched.Count(c => c == '\n'), ptx.Split('\n').Count(l => l.Contains("st.local", StringComparison.Ordinal)));
        Assert.Equal(ptx.Split('\n').Count(l => l.Contains("mma.sync", StringComparison.Ordinal)), patched.Split('\n').Count(l => l.Contains("mma.sync", StringComparison.Ordinal)));
    }

    [Fact]
    public void OnlyAdjacentPairsToTheSameAddressAreForwarded_AndStoresStayWhileAnythingReadsThem()
    {
        const string ptx = "\tst.local.b32\t[%rd1], %r5;\n\tld.local.b32\t%r6, [%rd1];\n\tst.local.b64\t[%rd2], %rd7;\n\tadd.s32\t%r8, %r6, 1;\n\tld.local.b64\t%rd9, [%rd2];\n\tst.local.b32\t[%rd3], 0;\n\tld.local.b32\t%r10, [%rd4];";
        string patched = PtxPeephole.ForwardLocalStores(ptx, out int forwarded);
        Assert.Equal(1, forwarded);
        Assert.Equal("\tst.local.b32\t[%rd1], %r5;\n\tmov.b32\t%r6, %r5;\n\tst.local.b64\t[%rd2], %rd7;\n\tadd.s32\t%r8, %r6, 1;\n\tld.local.b64\t%rd9, [%rd2];\n\tst.local.b32\t[%rd3], 0;\n\tld.local.b32\t%r10, [%rd4];", patched);

        const string forwardable = "\tst.local.b32\t[%rd1], 0;\n\tst.local.b32\t[%rd1], %r5;\n\tld.local.b32\t%r6, [%rd1];\n\tret;";
        Assert.Equal("\tmov.b32\t%r6, %r5;\n\tret;", PtxPeephole.ForwardLocalStores(forwardable, out forwarded));
        Assert.Equal(1, forwarded);
        const string nothing = "\tadd.s32\t%r1, %r2, %r3;";
        Assert.Same(nothing, PtxPeephole.ForwardLocalStores(nothing, out forwarded));
        Assert.Equal(0, forwarded);
    }

    [Fact]
    public void TheIlgpuInternalsItNeeds_AreThere()
    {
        // ILGPU 1.5.3 keeps the accelerator's backend and the compiled PTX internal; LoadPatched reaches them by
        // reflection and falls back to the unpatched kernel if they move. This fails first when an upgrade moves them.
        const BindingFlags any = BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Instance;
        Assert.NotNull(typeof(Accelerator).GetProperty("Backend", any));
        Assert.NotNull(typeof(PTXCompiledKernel).GetField("<PTXAssembly>k__BackingField", any));
    }
}
