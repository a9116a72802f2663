using System;
using System.IO;
using System.Linq;
using System.Reflection;
using ILGPU;
using ILGPU.Backends;
using ILGPU.Backends.EntryPoints;
using ILGPU.Backends.PTX;
using ILGPU.Runtime;
using ILGPU.Runtime.Cuda;
using KernelGen.Backends;
using Xunit;

namespace KernelGen.Tests;

/// <summary>The disk cache of patched PTX, on real tensor-core kernels compiled by ILGPU's PTX backend (no GPU is
/// needed to compile; loading on a device is exercised by the CUDA runs). The reference for every entry is the same
/// kernel compiled afresh.</summary>
public sealed class KernelCacheTests : IDisposable
{
    private readonly TestDirectory directory = new("kgcache-");
    private readonly Context context = Context.Create(builder => builder.Cuda());
    private readonly PTXBackend backend;

    public KernelCacheTests() => backend = new PTXBackend(context, CudaArchitecture.SM_80, CudaInstructionSet.ISA_80, null!);

    public void Dispose()
    {
        backend.Dispose();
        context.Dispose();
        directory.Dispose();
    }

    /// <summary>x's conversion to B fragments: small, quick to compile, and its shared-memory-free entry point.</summary>
    private static EntryPointDescription Prepare => EntryPointDescription.FromExplicitlyGroupedKernel(
        typeof(TensorCoreGemm).GetMethod("PrepareKernel", BindingFlags.NonPublic | BindingFlags.Static)!.MakeGenericMethod(typeof(TensorCoreMma.PtxMma)));

    /// <summary>The wgmma GEMM for one code width: a kernel with static shared memory and generic arguments.</summary>
    private static EntryPointDescription WarpGroup(Type bits) => EntryPointDescription.FromExplicitlyGroupedKernel(
        typeof(TensorCoreGemm).GetMethod("WarpGroupKernel", BindingFlags.NonPublic | BindingFlags.Static)!.MakeGenericMethod(typeof(TensorCoreMma.PtxMma), bits, typeof(TensorCoreGemv.C0)));

    private static string Rewrite(string ptx) => PtxPeephole.Patch(ptx, 128, warpGroup: true);

    private static EntryPoint EntryPointOf(CompiledKernel kernel)
        => (EntryPoint)typeof(CompiledKernel).GetProperty("EntryPoint", BindingFlags.Instance | BindingFlags.NonPublic | BindingFlags.Public)!.GetValue(kernel)!;

    /// <summary>PTX with ILGPU's per-compile numbers (parameter names <c>_k_2128</c>, labels <c>L_21240</c>: its IR
    /// node ids, which grow with every compile in a context) renumbered by first appearance, so that two compiles of
    /// one kernel compare equal and any other difference shows.</summary>
    private static string Canonical(string ptx)
    {
        var names = new System.Collections.Generic.Dictionary<string, int>(StringComparer.Ordinal);
        return System.Text.RegularExpressions.Regex.Replace(ptx, @"\b(_[A-Za-z][A-Za-z0-9]*_|L_)(\d+)\b", match =>
        {
            if (!names.TryGetValue(match.Value, out int index))
            {
                index = names.Count;
                names.Add(match.Value, index);
            }

            return match.Groups[1].Value + "#" + index.ToString(System.Globalization.CultureInfo.InvariantCulture);
        });
    }

    private string[] Entries() => Directory.GetFiles(directory.FullPath, "*" + KernelCache.Extension);

    [Fact]
    public void SecondProcess_LoadsTheSamePatchedKernelFromTheFile()
    {
        var entry = WarpGroup(typeof(TensorCoreGemv.C4));
        var reference = (PTXCompiledKernel)backend.Compile(entry, KernelSpecialization.Empty);

        var first = new KernelCache(directory.FullPath);
        var compiled = first.GetOrCompile(backend, entry, Rewrite, "patch 128 warpgroup");
        Assert.Equal((0, 1, 0), (first.Hits, first.Compiled, first.WriteFailures));
        Assert.Equal(Canonical(Rewrite(reference.PTXAssembly)), Canonical(compiled.PTXAssembly));
        Assert.Single(Entries());
        Assert.Empty(Directory.GetFiles(directory.FullPath, "*.tmp")); // renamed into place, nothing left behind

        var second = new KernelCache(directory.FullPath); // what another process sees
        var loaded = second.GetOrCompile(backend, entry, _ => throw new InvalidOperationException("a hit must not rewrite"), "patch 128 warpgroup");
        Assert.Equal((1, 0), (second.Hits, second.Compiled));
        Assert.Equal(compiled.PTXAssembly, loaded.PTXAssembly); // the very text stored
        Assert.Equal(Canonical(Rewrite(reference.PTXAssembly)), Canonical(loaded.PTXAssembly));
        Assert.Contains(".target sm_90a", loaded.PTXAssembly, StringComparison.Ordinal);

        // What the launcher is generated from: the entry point, its parameters and shared memory, as ILGPU compiled them.
        var want = EntryPointOf(reference);
        var got = EntryPointOf(loaded);
        Assert.True(want.SharedMemory.StaticSize > 0, "the wgmma GEMM has a static shared buffer");
        Assert.Equal((want.SharedMemory.StaticSize, want.SharedMemory.HasDynamicMemory), (got.SharedMemory.StaticSize, got.SharedMemory.HasDynamicMemory));
        Assert.Equal((want.Name, want.IndexType, want.IsExplicitlyGrouped, want.MethodInfo), (got.Name, got.IndexType, got.IsExplicitlyGrouped, got.MethodInfo));
        Assert.Equal(want.Parameters.Count, got.Parameters.Count);
        Assert.Equal(Enumerable.Range(0, want.Parameters.Count).Select(i => want.Parameters[i]), Enumerable.Range(0, got.Parameters.Count).Select(i => got.Parameters[i]));
        Assert.Equal((reference.Name, reference.NumParameters, reference.Specialization), (loaded.Name, loaded.NumParameters, loaded.Specialization));
    }

    [Fact]
    public void Key_SeparatesEverythingThePtxDependsOn_AndOnlyThat()
    {
        string key = KernelCache.Key(backend, Prepare, "a");
        Assert.Equal(key, KernelCache.Key(backend, Prepare, "a")); // deterministic
        using (var again = new PTXBackend(context, CudaArchitecture.SM_80, CudaInstructionSet.ISA_80, null!))
        {
            Assert.Equal(key, KernelCache.Key(again, Prepare, "a")); // another backend instance, same target
        }

        using (var hopper = new PTXBackend(context, CudaArchitecture.SM_90, CudaInstructionSet.ISA_80, null!))
        {
            Assert.NotEqual(key, KernelCache.Key(hopper, Prepare, "a"));
        }

        using (var isa = new PTXBackend(context, CudaArchitecture.SM_80, CudaInstructionSet.ISA_83, null!))
        {
            Assert.NotEqual(key, KernelCache.Key(isa, Prepare, "a"));
        }

        Assert.NotEqual(key, KernelCache.Key(backend, Prepare, "b")); // another rewrite
        Assert.NotEqual(KernelCache.Key(backend, WarpGroup(typeof(TensorCoreGemv.C4)), "a"), KernelCache.Key(backend, WarpGroup(typeof(TensorCoreGemv.C8)), "a"));

        // GEMV variants differ only inside a generic argument of a generic argument (rows 8 against 16 here): the
        // first form of the key wrote both as Variant`6, and a device loaded one variant for the other.
        var gemv = typeof(TensorCoreGemv).GetMethod("GemvKernel", BindingFlags.NonPublic | BindingFlags.Static)!;
        var rows8 = typeof(TensorCoreGemv.Variant<TensorCoreGemv.C4, TensorCoreGemv.C0, TensorCoreGemv.C8, TensorCoreGemv.C0, TensorCoreGemv.C0, TensorCoreGemv.C8>);
        var rows16 = typeof(TensorCoreGemv.Variant<TensorCoreGemv.C4, TensorCoreGemv.C0, TensorCoreGemv.C16, TensorCoreGemv.C0, TensorCoreGemv.C0, TensorCoreGemv.C8>);
        string Gemv(Type variant) => KernelCache.Key(backend, EntryPointDescription.FromExplicitlyGroupedKernel(gemv.MakeGenericMethod(typeof(TensorCoreMma.PtxMma), variant)), "a");
        Assert.NotEqual(Gemv(rows8), Gemv(rows16));
        Assert.Contains(rows16.AssemblyQualifiedName!, Gemv(rows16), StringComparison.Ordinal);
        Assert.Contains(typeof(KernelCache).Assembly.ManifestModule.ModuleVersionId.ToString("N"), key, StringComparison.Ordinal); // a rebuilt KernelGen misses
        Assert.Contains(typeof(Context).Assembly.ManifestModule.ModuleVersionId.ToString("N"), key, StringComparison.Ordinal); // so does another ILGPU

        using (var o2 = Context.Create(builder => builder.Cuda().Optimize(OptimizationLevel.O2)))
        using (var o2Backend = new PTXBackend(o2, CudaArchitecture.SM_80, CudaInstructionSet.ISA_80, null!))
        {
            Assert.NotEqual(key, KernelCache.Key(o2Backend, Prepare, "a"));
        }

        // A KERNELGEN_* setting may be compiled into a kernel through a static field; the cache's own and the device
        // choice are not.
        const string setting = "KERNELGEN_CACHE_TEST_SETTING";
        try
        {
            Environment.SetEnvironmentVariable(setting, "1");
            Assert.NotEqual(key, KernelCache.Key(backend, Prepare, "a"));
        }
        finally
        {
            Environment.SetEnvironmentVariable(setting, null);
        }

        Assert.Equal(key, KernelCache.Key(backend, Prepare, "a"));
    }

    [Theory]
    [InlineData("truncated")]
    [InlineData("empty")]
    [InlineData("other key")]
    [InlineData("edited ptx")]
    [InlineData("no header")]
    public void DamagedEntry_IsCompiledAgainAndRewritten(string damage)
    {
        string Reference() => PtxPeephole.Patch(((PTXCompiledKernel)backend.Compile(Prepare, KernelSpecialization.Empty)).PTXAssembly, 0, warpGroup: false);
        string Patch(string ptx) => PtxPeephole.Patch(ptx, 0, warpGroup: false);
        new KernelCache(directory.FullPath).GetOrCompile(backend, Prepare, Patch, "patch 0");
        string path = Assert.Single(Entries());
        string text = File.ReadAllText(path);
        File.WriteAllText(path, damage switch
        {
            "truncated" => text[..(text.Length - 100)], // a copy cut short
            "empty" => string.Empty,
            "other key" => text.Replace("key " + Path.GetFileNameWithoutExtension(path), "key " + new string('0', 64), StringComparison.Ordinal),
            "edited ptx" => text.Replace("cvt.rn.f16x2.f32", "cvt.rz.f16x2.f32", StringComparison.Ordinal),
            _ => text[(text.IndexOf("\n\n", StringComparison.Ordinal) + 2)..], // the PTX alone
        });
        Assert.NotEqual(text, File.ReadAllText(path));

        var cache = new KernelCache(directory.FullPath);
        var kernel = cache.GetOrCompile(backend, Prepare, Patch, "patch 0");
        Assert.Equal((0, 1), (cache.Hits, cache.Compiled));
        Assert.Equal(Canonical(Reference()), Canonical(kernel.PTXAssembly));
        static string Body(string entry) => entry[(entry.IndexOf("\n\n", StringComparison.Ordinal) + 2)..];
        Assert.Equal(Canonical(Body(text)), Canonical(Body(File.ReadAllText(path)))); // rewritten whole (its header checked by the hit below)

        var next = new KernelCache(directory.FullPath);
        Assert.Equal(kernel.PTXAssembly, next.GetOrCompile(backend, Prepare, Patch, "patch 0").PTXAssembly);
        Assert.Equal((1, 0), (next.Hits, next.Compiled));
    }

    [Fact]
    public void DirectoryThatCannotBeCreated_CostsOnlyTheCompile()
    {
        string blocker = Path.Combine(directory.FullPath, "a-file");
        File.WriteAllText(blocker, "not a directory");
        var cache = new KernelCache(Path.Combine(blocker, "kernels")); // its parent is a file: creating it fails even as root

        var kernel = cache.GetOrCompile(backend, Prepare, ptx => ptx, "none");
        Assert.Equal(Canonical(((PTXCompiledKernel)backend.Compile(Prepare, KernelSpecialization.Empty)).PTXAssembly), Canonical(kernel.PTXAssembly));
        Assert.Equal((0, 1, 1), (cache.Hits, cache.Compiled, cache.WriteFailures));
        Assert.Contains(cache.Directory, cache.LastFailure, StringComparison.Ordinal);
        Assert.Equal((0, 0L), cache.Measure());
        Assert.Equal("not a directory", File.ReadAllText(blocker));
    }

    [Fact]
    public void Clear_RemovesEntriesAndTemporariesOnly()
    {
        var cache = new KernelCache(directory.FullPath);
        cache.GetOrCompile(backend, Prepare, ptx => ptx, "one");
        cache.GetOrCompile(backend, Prepare, ptx => ptx, "two");
        File.WriteAllText(Path.Combine(directory.FullPath, ".abc.1.tmp"), "left by a killed process");
        File.WriteAllText(Path.Combine(directory.FullPath, "notes.txt"), "someone else's file");

        var (entries, bytes) = cache.Measure();
        Assert.Equal(2, entries);
        Assert.Equal(Entries().Sum(f => new FileInfo(f).Length), bytes);
        Assert.Equal(2, cache.Clear());
        Assert.Equal(["notes.txt"], Directory.GetFiles(directory.FullPath).Select(Path.GetFileName));
        Assert.Equal(0, new KernelCache(Path.Combine(directory.FullPath, "missing")).Clear());
    }

    [Theory]
    [InlineData("off", null, "/home/u", null, null)]
    [InlineData("OFF", null, "/home/u", null, null)]
    [InlineData("0", null, "/home/u", null, null)]
    [InlineData(" /data/kg ", "/xdg", "/home/u", null, "/data/kg")]
    [InlineData(null, "/xdg", "/home/u", null, "/xdg/kernelgen/kernels")]
    [InlineData("", "relative/xdg", "/home/u", null, "/home/u/.cache/kernelgen/kernels")] // XDG requires an absolute path
    [InlineData(null, null, "/home/u", null, "/home/u/.cache/kernelgen/kernels")]
    [InlineData(null, "/xdg", "/home/u", "/appdata", "/appdata/KernelGen/kernels")] // Windows
    [InlineData(null, null, null, null, null)] // nowhere to put it
    public void Directory_FollowsTheEnvironment(string? value, string? xdg, string? home, string? localAppData, string? expected)
        => Assert.Equal(expected, KernelCache.Resolve(value, xdg, home, localAppData));

    [Fact]
    public void EmptyDirectory_IsRefusedWithItsName()
        => Assert.Equal("directory", Assert.ThrowsAny<ArgumentException>(() => new KernelCache(" ")).ParamName);
}
