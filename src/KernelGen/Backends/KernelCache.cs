using System;
using System.Collections;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Reflection;
using System.Security.Cryptography;
using System.Text;
using System.Threading;
using ILGPU;
using ILGPU.Backends.EntryPoints;
using ILGPU.Backends.PTX;
using ILGPU.Runtime;

namespace KernelGen.Backends;

/// <summary>
/// A disk cache of the tensor-core kernels' patched PTX, so that a process loads in milliseconds what ILGPU takes
/// up to half a minute per kernel to compile (the GEMV and GEMM variants are unrolled into 2,000–20,000 lines of PTX; a decode
/// step or a benchmark loads a dozen of them). The driver then JIT-compiles the PTX as before (and keeps its own cache
/// of the result).
/// <para>
/// <b>Key.</b> An entry is found by the SHA-256 of everything the PTX can depend on: the kernel method and its generic
/// arguments (by name, metadata token and the version ids of their assemblies, KernelGen's included, whose rewrites
/// <see cref="PtxPeephole"/> applies), ILGPU's and the runtime's assemblies, the PTX target (architecture and ISA),
/// the context's code-generation settings, the rewrite (its register cap, the warpgroup retarget), and every
/// <c>KERNELGEN_*</c> environment variable: the kernels read settings such as KERNELGEN_GEMV_NC through static fields,
/// whose values ILGPU compiles in. A rebuilt KernelGen (new version id) or another ILGPU therefore never reads an old
/// entry. Builds are deterministic, so the same source rebuilt keeps its entries.
/// </para>
/// <para>
/// <b>Files.</b> One <c>{key}.ptx</c> per kernel: a header (format, key, the PTX's own SHA-256, the entry point's
/// shared memory) and the PTX. Entries are written to a temporary file and renamed into place, so a reader sees a
/// whole entry or none; an entry whose header or hash does not match is ignored and rewritten. A directory that
/// cannot be written costs the compile time only: <see cref="WriteFailures"/> and <see cref="LastFailure"/> say why.
/// </para>
/// <para>
/// <b>Where.</b> <c>KERNELGEN_KERNEL_CACHE</c>: a directory, or <c>off</c> to compile every kernel in every process;
/// unset, <c>$XDG_CACHE_HOME/kernelgen/kernels</c> (else <c>~/.cache/kernelgen/kernels</c>; on Windows
/// <c>%LOCALAPPDATA%\KernelGen\kernels</c>). <c>kernelgen cache</c> lists it, <c>kernelgen cache clear</c> empties it.
/// </para>
/// </summary>
public sealed class KernelCache
{
    /// <summary>The environment variable that moves or disables the cache (<see cref="Default"/>).</summary>
    public const string EnvironmentVariable = "KERNELGEN_KERNEL_CACHE";

    /// <summary>The first line of every entry; a new layout of entries changes it.</summary>
    internal const string Format = "kernelgen kernel cache 1";

    /// <summary>What an entry's file name ends with.</summary>
    public const string Extension = ".ptx";

    private static readonly Lazy<KernelCache?> DefaultCache = new(() => Resolve(
        Environment.GetEnvironmentVariable(EnvironmentVariable),
        Environment.GetEnvironmentVariable("XDG_CACHE_HOME"),
        Environment.GetFolderPath(Environment.SpecialFolder.UserProfile),
        OperatingSystem.IsWindows() ? Environment.GetFolderPath(Environment.SpecialFolder.LocalApplicationData) : null) is { } directory
        ? new KernelCache(directory)
        : null);

    // Declared before the constructor, which reads it as the static fields initialize in order.
    private static readonly PropertyInfo? EntryPointProperty = typeof(ILGPU.Backends.CompiledKernel).GetProperty("EntryPoint", BindingFlags.Instance | BindingFlags.NonPublic | BindingFlags.Public);

    private static readonly ConstructorInfo? CompiledKernelConstructor = EntryPointProperty is null ? null : typeof(PTXCompiledKernel).GetConstructor(
        BindingFlags.Instance | BindingFlags.NonPublic | BindingFlags.Public, [typeof(Context), typeof(EntryPoint), typeof(ILGPU.Backends.CompiledKernel.KernelInfo), typeof(string)]);

    private int hits;
    private int compiled;
    private int writeFailures;
    private string? lastFailure;

    /// <summary>A cache in <paramref name="directory"/>, created when the first entry is written.</summary>
    /// <exception cref="ArgumentException">The directory is empty.</exception>
    public KernelCache(string directory)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(directory);
        Directory = Path.GetFullPath(directory);
    }

    /// <summary>The cache the runtime uses, as <see cref="EnvironmentVariable"/> says (read once per process); null
    /// when it is <c>off</c>.</summary>
    public static KernelCache? Default => DefaultCache.Value;

    /// <summary>Where the entries are.</summary>
    public string Directory { get; }

    /// <summary>Kernels this process loaded from the cache.</summary>
    public int Hits => Volatile.Read(ref hits);

    /// <summary>Kernels this process compiled because the cache held no valid entry.</summary>
    public int Compiled => Volatile.Read(ref compiled);

    /// <summary>Compiled kernels that could not be written (<see cref="LastFailure"/> says why).</summary>
    public int WriteFailures => Volatile.Read(ref writeFailures);

    /// <summary>The last write that failed, with its reason; null when none did.</summary>
    public string? LastFailure => Volatile.Read(ref lastFailure);

    /// <summary>The cache directory <see cref="EnvironmentVariable"/>'s <paramref name="value"/> names: null for
    /// <c>off</c> (or <c>0</c>, <c>none</c>), the value itself for a path, and when unset the per-user cache
    /// directory: <paramref name="xdgCacheHome"/>/kernelgen/kernels, else <paramref name="home"/>/.cache/kernelgen/kernels,
    /// or, given <paramref name="localAppData"/> (Windows), its KernelGen\kernels. Null when none of them is known.</summary>
    public static string? Resolve(string? value, string? xdgCacheHome, string? home, string? localAppData)
    {
        if (!string.IsNullOrWhiteSpace(value))
        {
            string trimmed = value.Trim();
            return trimmed.ToLowerInvariant() is "off" or "0" or "none" or "false" ? null : trimmed;
        }

        if (!string.IsNullOrEmpty(localAppData))
        {
            return Path.Combine(localAppData, "KernelGen", "kernels");
        }

        if (!string.IsNullOrEmpty(xdgCacheHome) && Path.IsPathRooted(xdgCacheHome))
        {
            return Path.Combine(xdgCacheHome, "kernelgen", "kernels");
        }

        return string.IsNullOrEmpty(home) ? null : Path.Combine(home, ".cache", "kernelgen", "kernels");
    }

    /// <summary>
    /// The kernel <paramref name="entry"/> compiled by <paramref name="backend"/> and rewritten by
    /// <paramref name="rewrite"/>: from the cache when it holds the entry, else compiled, rewritten and stored.
    /// </summary>
    /// <param name="backend">The PTX backend of the accelerator that will load the kernel (its target is part of the key).</param>
    /// <param name="entry">The kernel.</param>
    /// <param name="rewrite">What is done to ILGPU's PTX before it is loaded.</param>
    /// <param name="rewriteKey">Names <paramref name="rewrite"/> and its settings; two different rewrites must not share it.</param>
    public PTXCompiledKernel GetOrCompile(PTXBackend backend, EntryPointDescription entry, Func<string, string> rewrite, string rewriteKey)
    {
        ArgumentNullException.ThrowIfNull(backend);
        ArgumentNullException.ThrowIfNull(rewrite);
        ArgumentNullException.ThrowIfNull(rewriteKey);
        if (backend.Context.Properties.EnableKernelInformation)
        {
            return CompileUncached(backend, entry, rewrite); // its per-kernel information is not stored
        }

        string key = Key(backend, entry, rewriteKey);
        string hash = Sha256(key);
        string path = Path.Combine(Directory, hash + Extension);
        if (CompiledKernelConstructor is not null && TryRead(path, hash, out var stored))
        {
            var entryPoint = new EntryPoint(entry, new SharedMemorySpecification(stored.StaticShared, stored.DynamicShared), KernelSpecialization.Empty);
            var loaded = (PTXCompiledKernel)CompiledKernelConstructor.Invoke([backend.Context, entryPoint, null, stored.Ptx]);
            Interlocked.Increment(ref hits);
            return loaded;
        }

        var (kernel, shared) = CompileRewritten(backend, entry, rewrite);
        Interlocked.Increment(ref compiled);
        if (shared is { } memory)
        {
            Write(path, hash, entry.MethodSource, memory, kernel.PTXAssembly);
        }

        return kernel;
    }

    /// <summary>The kernel compiled by <paramref name="backend"/> and rewritten, without a cache (KERNELGEN_KERNEL_CACHE=off).</summary>
    public static PTXCompiledKernel CompileUncached(PTXBackend backend, EntryPointDescription entry, Func<string, string> rewrite)
    {
        ArgumentNullException.ThrowIfNull(backend);
        ArgumentNullException.ThrowIfNull(rewrite);
        return CompileRewritten(backend, entry, rewrite).Kernel;
    }

    /// <summary>Compiles <paramref name="entry"/> and rewrites its PTX; with the entry point's shared memory, which an
    /// entry stores, unless this ILGPU lacks the constructor a cached kernel is rebuilt with (then nothing is stored).</summary>
    private static (PTXCompiledKernel Kernel, SharedMemorySpecification? Shared) CompileRewritten(PTXBackend backend, EntryPointDescription entry, Func<string, string> rewrite)
    {
        var fresh = (PTXCompiledKernel)backend.Compile(entry, KernelSpecialization.Empty);
        string ptx = rewrite(fresh.PTXAssembly);
        if (CompiledKernelConstructor is null)
        {
            return (Rewritten(fresh, ptx), null);
        }

        var entryPoint = EntryPointOf(fresh);
        return ((PTXCompiledKernel)CompiledKernelConstructor.Invoke([backend.Context, entryPoint, fresh.Info, ptx]), entryPoint.SharedMemory);
    }

    /// <summary>The entry point ILGPU compiled (internal in ILGPU 1.5.3, as the constructor is).</summary>
    private static EntryPoint EntryPointOf(PTXCompiledKernel kernel) => (EntryPoint)EntryPointProperty!.GetValue(kernel)!;

    /// <summary>Without the constructor (another ILGPU), the fresh kernel with its PTX replaced in place, as
    /// <see cref="PtxPeephole"/> did before the cache.</summary>
    private static PTXCompiledKernel Rewritten(PTXCompiledKernel kernel, string ptx)
    {
        var field = typeof(PTXCompiledKernel).GetField("<PTXAssembly>k__BackingField", BindingFlags.Instance | BindingFlags.NonPublic)
            ?? throw new NotSupportedException("This ILGPU's PTXCompiledKernel has neither the constructor nor the field KernelGen's PTX rewrites need; use ILGPU 1.5.3 or set KERNELGEN_PTX_PEEPHOLE=0.");
        field.SetValue(kernel, ptx);
        return kernel;
    }

    /// <summary>The text whose hash names <paramref name="entry"/>'s file (see the class remarks).</summary>
    internal static string Key(PTXBackend backend, EntryPointDescription entry, string rewriteKey)
    {
        var method = entry.MethodSource;
        var properties = backend.Context.Properties;
        var text = new StringBuilder();
        text.AppendLine(Format);
        // Assembly-qualified names: they spell out generic arguments at every depth (MethodInfo.ToString() writes a
        // constructed argument as Variant`6 and would give every GEMV variant the same key).
        text.Append("method ").Append(method.DeclaringType?.AssemblyQualifiedName).Append(" :: ").Append(method.Name).Append(" token ").Append(method.MetadataToken.ToString(CultureInfo.InvariantCulture)).AppendLine();
        foreach (var argument in method.IsGenericMethod ? method.GetGenericArguments() : [])
        {
            text.Append("type-argument ").Append(argument.AssemblyQualifiedName).AppendLine();
        }

        foreach (var parameter in method.GetParameters())
        {
            text.Append("parameter ").Append(parameter.ParameterType.AssemblyQualifiedName).AppendLine();
        }

        text.Append("entry ").Append(entry.IndexType).AppendLine();
        foreach (var assembly in Assemblies(method).OrderBy(a => a.FullName, StringComparer.Ordinal))
        {
            text.Append("assembly ").Append(assembly.FullName).Append(' ').Append(assembly.ManifestModule.ModuleVersionId.ToString("N")).AppendLine();
        }

        text.Append("runtime ").Append(Environment.Version).AppendLine();
        text.Append("target ").Append(backend.Architecture).Append(" isa ").Append(backend.InstructionSet).AppendLine();
        text.Append(CultureInfo.InvariantCulture, $"context {properties.OptimizationLevel} {properties.DebugSymbolsMode} {properties.InliningMode} {properties.MathMode} {properties.StaticFieldMode} {properties.ArrayMode} assertions {properties.EnableAssertions} io {properties.EnableIOOperations}").AppendLine();
        text.Append("rewrite ").Append(rewriteKey).AppendLine();
        foreach (var (name, value) in Settings())
        {
            text.Append("env ").Append(name).Append('=').Append(value).AppendLine();
        }

        return text.ToString();
    }

    /// <summary>The <c>KERNELGEN_*</c> environment variables that may change a kernel (all but the cache's own and the
    /// device choice), sorted.</summary>
    private static IEnumerable<(string Name, string Value)> Settings()
        => Environment.GetEnvironmentVariables().Cast<DictionaryEntry>()
            .Select(e => (Name: (string)e.Key, Value: e.Value as string ?? string.Empty))
            .Where(e => e.Name.StartsWith("KERNELGEN_", StringComparison.Ordinal) && e.Name is not (EnvironmentVariable or ComputeDevice.EnvironmentVariable))
            .OrderBy(e => e.Name, StringComparer.Ordinal);

    /// <summary>The assemblies whose code the kernel may compile from: its own, its generic arguments' (at any depth),
    /// KernelGen's, ILGPU's and the runtime's.</summary>
    private static HashSet<Assembly> Assemblies(MethodInfo method)
    {
        var set = new HashSet<Assembly> { method.Module.Assembly, typeof(KernelCache).Assembly, typeof(Context).Assembly, typeof(object).Assembly };
        void Add(Type type)
        {
            if (set.Add(type.Assembly) || type.IsGenericType)
            {
                foreach (var argument in type.IsGenericType ? type.GetGenericArguments() : [])
                {
                    Add(argument);
                }
            }
        }

        if (method.DeclaringType is { } declaring)
        {
            Add(declaring);
        }

        foreach (var argument in method.IsGenericMethod ? method.GetGenericArguments() : [])
        {
            Add(argument);
        }

        return set;
    }

    private readonly record struct Stored(string Ptx, int StaticShared, bool DynamicShared);

    /// <summary>Reads an entry; false when it is missing, unreadable, of another format or key, or not whole.</summary>
    private static bool TryRead(string path, string hash, out Stored stored)
    {
        stored = default;
        string text;
        try
        {
            if (!File.Exists(path))
            {
                return false;
            }

            text = File.ReadAllText(path, Encoding.UTF8);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return false;
        }

        int body = text.IndexOf("\n\n", StringComparison.Ordinal);
        if (body < 0)
        {
            return false;
        }

        var header = text[..body].Split('\n').Select(line => line.Split(' ', 2)).Where(p => p.Length == 2).ToDictionary(p => p[0], p => p[1], StringComparer.Ordinal);
        string ptx = text[(body + 2)..];
        if (!text.StartsWith(Format + "\n", StringComparison.Ordinal)
            || !header.TryGetValue("key", out var key) || key != hash
            || !header.TryGetValue("ptx-sha256", out var ptxHash) || ptxHash != Sha256(ptx)
            || !header.TryGetValue("shared", out var shared) || shared.Split(' ') is not [var size, var dynamic]
            || !int.TryParse(size, NumberStyles.None, CultureInfo.InvariantCulture, out int staticShared))
        {
            return false;
        }

        stored = new Stored(ptx, staticShared, dynamic == "dynamic");
        return true;
    }

    /// <summary>Writes an entry through a temporary file renamed into place; a failure is counted, not thrown.</summary>
    private void Write(string path, string hash, MethodInfo method, SharedMemorySpecification shared, string ptx)
    {
        string temporary = Path.Combine(Directory, $".{hash}.{Environment.ProcessId}.{Guid.NewGuid():N}.tmp");
        try
        {
            System.IO.Directory.CreateDirectory(Directory);
            var text = new StringBuilder();
            text.Append(Format).Append('\n');
            text.Append("key ").Append(hash).Append('\n');
            text.Append("kernel ").Append(method.DeclaringType?.Name).Append('.').Append(method.Name);
            if (method.IsGenericMethod)
            {
                text.Append('<').AppendJoin(", ", method.GetGenericArguments().Select(argument => argument.Name)).Append('>');
            }

            text.Append('\n');
            text.Append("ptx-sha256 ").Append(Sha256(ptx)).Append('\n');
            text.Append(CultureInfo.InvariantCulture, $"shared {shared.StaticSize} {(shared.HasDynamicMemory ? "dynamic" : "static")}").Append('\n');
            text.Append('\n').Append(ptx);
            File.WriteAllText(temporary, text.ToString(), new UTF8Encoding(false));
            File.Move(temporary, path, overwrite: true);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or NotSupportedException)
        {
            Interlocked.Increment(ref writeFailures);
            Volatile.Write(ref lastFailure, $"{path}: {e.Message}");
            try
            {
                File.Delete(temporary);
            }
            catch (Exception cleanup) when (cleanup is IOException or UnauthorizedAccessException)
            {
                // Nothing was written, or what was cannot be removed either: the reason above is the one to report.
            }
        }
    }

    /// <summary>The entries in <see cref="Directory"/>: count and bytes (0 and 0 when it does not exist).</summary>
    public (int Entries, long Bytes) Measure()
    {
        if (!System.IO.Directory.Exists(Directory))
        {
            return (0, 0);
        }

        var files = new DirectoryInfo(Directory).GetFiles("*" + Extension);
        return (files.Length, files.Sum(f => f.Length));
    }

    /// <summary>Deletes every entry (and any temporary file a killed process left); returns how many entries.</summary>
    public int Clear()
    {
        if (!System.IO.Directory.Exists(Directory))
        {
            return 0;
        }

        int removed = 0;
        foreach (var file in new DirectoryInfo(Directory).GetFiles())
        {
            bool entry = file.Name.EndsWith(Extension, StringComparison.Ordinal);
            if (entry || file.Name.EndsWith(".tmp", StringComparison.Ordinal))
            {
                file.Delete();
                removed += entry ? 1 : 0;
            }
        }

        return removed;
    }

    private static string Sha256(string text) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text)));
}
