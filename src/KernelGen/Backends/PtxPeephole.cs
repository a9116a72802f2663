using System;
using System.Linq;
using System.Reflection;
using System.Text.RegularExpressions;
using ILGPU.Backends.EntryPoints;
using ILGPU.Backends.PTX;
using ILGPU.Runtime;
using ILGPU.Runtime.Cuda;

namespace KernelGen.Backends;

/// <summary>
/// Text-level fixes to the PTX that ILGPU 1.5.3 emits for the tensor-core kernels, applied before the driver JIT
/// compiles it. ILGPU returns an inline-asm output through a per-call local variable: the asm writes a register, then
/// <c>st.local [depot], r; ld.local r', [depot];</c> reads it back, and ptxas keeps those round trips (a 256-byte
/// stack frame in the GEMM, every accumulator update waiting on L1). <see cref="ForwardLocalStores"/> turns each
/// load that directly follows a store to the same address into a register move, and when no local load is left,
/// drops the then write-only stores.
/// </summary>
public static partial class PtxPeephole
{
    [GeneratedRegex(@"^\s*st\.local\.(?<type>\w+)\s+\[(?<address>%\w+)\],\s*(?<value>[^;]+);\s*$")]
    private static partial Regex Store();

    [GeneratedRegex(@"^\s*mov\.b64\s+(?<register>%\w+),\s*__local_depot\d+;\s*$")]
    private static partial Regex DepotAddress();

    [GeneratedRegex(@"^\s*\.local\s+\.align\s+\d+\s+\.b8\s+__local_depot\d+\[\d+\];\s*$")]
    private static partial Regex DepotDeclaration();

    [GeneratedRegex(@"^\s*ld\.local\.(?<type>\w+)\s+(?<target>%\w+),\s*\[(?<address>%\w+)\];\s*$")]
    private static partial Regex Load();

    /// <summary>Forwards every <c>ld.local</c> whose value was stored earlier in the same straight-line code (no label
    /// or branch between, no other access to that address, the stored register not written again) into a <c>mov</c>,
    /// and removes all <c>st.local</c> when no <c>ld.local</c> remains.</summary>
    /// <param name="ptx">PTX text.</param>
    /// <param name="forwarded">Loads replaced by moves.</param>
    /// <returns>The rewritten PTX (the input itself when nothing matched).</returns>
    public static string ForwardLocalStores(string ptx, out int forwarded)
    {
        ArgumentNullException.ThrowIfNull(ptx);
        var lines = ptx.Split('\n');
        forwarded = 0;
        for (int i = 0; i < lines.Length; i++)
        {
            var load = Load().Match(lines[i]);
            if (!load.Success)
            {
                continue;
            }

            string address = load.Groups["address"].Value;
            for (int j = i - 1; j >= 0 && !EndsStraightLine(lines[j]); j--)
            {
                var store = Store().Match(lines[j]);
                if (store.Success && store.Groups["address"].Value == address)
                {
                    string value = store.Groups["value"].Value.Trim();
                    if (store.Groups["type"].Value == load.Groups["type"].Value && !WrittenBetween(lines, value, j + 1, i))
                    {
                        lines[i] = $"\tmov.{load.Groups["type"].Value}\t{load.Groups["target"].Value}, {value};";
                        forwarded++;
                    }

                    break;
                }

                if (lines[j].Contains("[" + address + "]", StringComparison.Ordinal))
                {
                    break; // another access to the slot
                }
            }
        }

        if (forwarded == 0)
        {
            return ptx;
        }

        // Any other read of local memory (an unforwarded or vector load) keeps every store.
        bool loadsLeft = Array.Exists(lines, line => line.Contains("ld.local", StringComparison.Ordinal));
        var kept = new System.Collections.Generic.List<string>(lines.Length);
        foreach (var line in lines)
        {
            if (!loadsLeft && Store().IsMatch(line))
            {
                continue; // nothing reads local memory any more
            }

            kept.Add(line);
        }

        // With no local access left, the depots ILGPU declared for the asm outputs are unused: drop them and the moves
        // of their addresses (ptxas would otherwise still reserve a stack frame), unless an address is used elsewhere.
        if (!loadsLeft && !kept.Exists(line => line.Contains("st.local", StringComparison.Ordinal)))
        {
            var addresses = new System.Collections.Generic.HashSet<string>();
            foreach (var line in kept)
            {
                var move = DepotAddress().Match(line);
                if (move.Success)
                {
                    addresses.Add(move.Groups["register"].Value);
                }
            }

            bool used = kept.Exists(line => !DepotAddress().IsMatch(line) && addresses.Any(register => Regex.IsMatch(line, Regex.Escape(register) + @"\b")));
            if (!used)
            {
                kept.RemoveAll(line => DepotAddress().IsMatch(line) || DepotDeclaration().IsMatch(line));
            }
        }

        return string.Join('\n', kept);
    }

    /// <summary>A label or a jump: code after it may be reached from elsewhere.</summary>
    private static bool EndsStraightLine(string line)
    {
        string trimmed = line.Trim();
        return trimmed.EndsWith(':') || trimmed.StartsWith("bra", StringComparison.Ordinal) || trimmed.Contains(" bra", StringComparison.Ordinal)
            || trimmed.StartsWith("ret", StringComparison.Ordinal) || trimmed.StartsWith("call", StringComparison.Ordinal);
    }

    /// <summary>Whether a line in [from, to) may write register <paramref name="value"/> (conservatively: it appears
    /// followed by a comma, as destinations do). Immediates are never written.</summary>
    private static bool WrittenBetween(string[] lines, string value, int from, int to)
    {
        if (!value.StartsWith('%'))
        {
            return false;
        }

        for (int k = from; k < to; k++)
        {
            int at = lines[k].IndexOf(value, StringComparison.Ordinal);
            while (at >= 0)
            {
                int end = at + value.Length;
                bool whole = end >= lines[k].Length || !(char.IsLetterOrDigit(lines[k][end]) || lines[k][end] == '_');
                if (whole && end < lines[k].Length && lines[k][end] == ',')
                {
                    return true;
                }

                at = lines[k].IndexOf(value, end, StringComparison.Ordinal);
            }
        }

        return false;
    }

    /// <summary>Whether the CUDA tensor-core kernels load with <see cref="ForwardLocalStores"/> applied: yes unless
    /// KERNELGEN_PTX_PEEPHOLE=0 (the escape hatch, and how the benchmark times the kernels as ILGPU emits them).</summary>
    public static bool Enabled => Environment.GetEnvironmentVariable("KERNELGEN_PTX_PEEPHOLE") != "0";

    /// <summary>Compiles the explicitly grouped kernel <paramref name="method"/> with the CUDA accelerator's own PTX
    /// backend, applies <see cref="Patch"/> and loads it; the launcher's first argument is the stream. The patched PTX
    /// comes from <see cref="KernelCache.Default"/> when it holds it (and is stored there when compiled). Null on
    /// other accelerators: the caller then loads the kernel as ILGPU emits it.</summary>
    internal static TDelegate? LoadPatched<TDelegate>(Accelerator accelerator, MethodInfo method, int maxRegisters = 0, bool warpGroup = false)
        where TDelegate : Delegate
        => LoadPatchedKernel(accelerator, method, maxRegisters, warpGroup)?.CreateLauncherDelegate<TDelegate>();

    /// <summary>As <see cref="LoadPatched{TDelegate}"/>, the loaded kernel itself (for launches ILGPU does not make:
    /// <see cref="DependentLaunch"/>). On a compute capability 9.0 card the programmatic-dependent-launch markers are
    /// enabled (<see cref="EnableDependentLaunch"/>) unless KERNELGEN_PDL=0.</summary>
    internal static CudaKernel? LoadPatchedKernel(Accelerator accelerator, MethodInfo method, int maxRegisters = 0, bool warpGroup = false)
    {
        if (accelerator is not CudaAccelerator cuda)
        {
            return null;
        }

        bool dependent = DependentLaunch.Targets(cuda);
        var entry = EntryPointDescription.FromExplicitlyGroupedKernel(method);
        string rewriteKey = FormattableString.Invariant($"PtxPeephole.Patch maxnreg {maxRegisters} warpgroup {warpGroup} dependent {dependent}");
        string Rewrite(string ptx) => Patch(ptx, maxRegisters, warpGroup, dependent);
        var compiled = KernelCache.Default is { } cache
            ? cache.GetOrCompile(cuda.Backend, entry, Rewrite, rewriteKey)
            : KernelCache.CompileUncached(cuda.Backend, entry, Rewrite);
        return (CudaKernel)accelerator.LoadKernel(compiled);
    }

    /// <summary>Every rewrite a tensor-core kernel loads with, in order: <see cref="ForwardLocalStores"/>,
    /// <see cref="BindSharedSymbol"/> (where the kernel's asm takes its shared memory's address), for a
    /// <paramref name="warpGroup"/> kernel <see cref="TargetWarpGroups"/>, with <paramref name="dependentLaunch"/>
    /// <see cref="EnableDependentLaunch"/>, then <see cref="LimitRegisters"/>.</summary>
    public static string Patch(string ptx, int maxRegisters, bool warpGroup, bool dependentLaunch = false)
    {
        string forwarded = ForwardLocalStores(ptx, out _);
        string bound = BindSharedSymbol(forwarded);
        string targeted = warpGroup ? TargetWarpGroups(bound) : bound;
        return LimitRegisters(dependentLaunch ? EnableDependentLaunch(targeted) : targeted, maxRegisters);
    }

    /// <summary>What <see cref="TensorCoreMma.IMma.WaitForPrimary"/> writes into the PTX: a comment until
    /// <see cref="EnableDependentLaunch"/> makes it <c>griddepcontrol.wait;</c>.</summary>
    internal const string WaitMarker = "// kernelgen: griddepcontrol.wait";

    /// <summary>What <see cref="TensorCoreMma.IMma.LaunchDependents"/> writes: <c>griddepcontrol.launch_dependents;</c>
    /// once enabled.</summary>
    internal const string LaunchMarker = "// kernelgen: griddepcontrol.launch_dependents";

    /// <summary>
    /// Turns the programmatic-dependent-launch markers into <c>griddepcontrol</c> instructions, which need
    /// <c>sm_90</c>: a target below it is raised to <c>sm_90</c> (the driver compiles for the card, which must be a
    /// compute capability 9.0 or later device). PTX without markers is returned as it is.
    /// </summary>
    public static string EnableDependentLaunch(string ptx)
    {
        ArgumentNullException.ThrowIfNull(ptx);
        if (!ptx.Contains(WaitMarker, StringComparison.Ordinal) && !ptx.Contains(LaunchMarker, StringComparison.Ordinal))
        {
            return ptx;
        }

        var target = TargetDirective().Match(ptx);
        if (target.Success && int.Parse(target.Groups["version"].Value, System.Globalization.CultureInfo.InvariantCulture) < 90)
        {
            ptx = string.Concat(ptx.AsSpan(0, target.Index), ".target sm_90", ptx.AsSpan(target.Index + target.Length));
        }

        return ptx.Replace(WaitMarker, "griddepcontrol.wait;", StringComparison.Ordinal)
            .Replace(LaunchMarker, "griddepcontrol.launch_dependents;", StringComparison.Ordinal);
    }

    /// <summary>Where the kernel entry's body starts: the index of its parameter list's closing <c>\n)\n{</c>, or −1.</summary>
    private static int EntryBody(string ptx)
    {
        int entry = ptx.IndexOf(".entry", StringComparison.Ordinal);
        return entry < 0 ? -1 : ptx.IndexOf("\n)\n{", entry, StringComparison.Ordinal);
    }

    /// <summary>The name of the warpgroup accumulator registers (<c>.reg .b32 name&lt;64&gt;</c>), which
    /// <see cref="TargetWarpGroups"/> declares at the top of the kernel so that several asm statements share them.</summary>
    internal const string Accumulators = "kgacc";

    /// <summary>What inline PTX writes for the address of the kernel's shared memory (<see cref="BindSharedSymbol"/>).</summary>
    internal const string SharedSymbol = "__kernelgen_shared";

    [GeneratedRegex(@"^\s*\.shared\s+\.align\s+\d+\s+\.b8\s+(?<name>__shared_alloca\d+)\[\d+\];\s*$", RegexOptions.Multiline)]
    private static partial Regex SharedDeclaration();

    /// <summary>
    /// Replaces <see cref="SharedSymbol"/> with the name ILGPU gave the kernel's shared allocation, which inline PTX
    /// cannot know (ILGPU numbers them <c>__shared_alloca0</c>, …), and aligns that allocation to 128 bytes. The
    /// kernel must have exactly one.
    /// </summary>
    /// <exception cref="InvalidOperationException">The PTX uses the symbol and declares no or several shared allocations.</exception>
    public static string BindSharedSymbol(string ptx)
    {
        ArgumentNullException.ThrowIfNull(ptx);
        if (!ptx.Contains(SharedSymbol, StringComparison.Ordinal))
        {
            return ptx;
        }

        var declarations = SharedDeclaration().Matches(ptx);
        if (declarations.Count != 1)
        {
            throw new InvalidOperationException(FormattableString.Invariant(
                $"The kernel's inline PTX takes the address of its shared memory, but ILGPU declared {declarations.Count} shared allocations instead of one; keep one shared buffer in that kernel."));
        }

        // cp.async's 16-byte copies and wgmma's descriptors (addresses in 16-byte units) need the buffer 16-byte
        // aligned; ILGPU aligns it to its widest access, which can be 4 when only the asm touches it.
        var declaration = declarations[0];
        string aligned = Regex.Replace(declaration.Value, @"\.align\s+\d+", ".align 128");
        return string.Concat(ptx.AsSpan(0, declaration.Index), aligned, ptx.AsSpan(declaration.Index + declaration.Length))
            .Replace(SharedSymbol, declaration.Groups["name"].Value, StringComparison.Ordinal);
    }

    /// <summary>Retargets PTX to <c>sm_90a</c>, the only target with <c>wgmma</c> (ILGPU 1.5.3 writes at most
    /// <c>sm_80</c>-class targets; the driver compiles the text for the card, which must then be a compute capability
    /// 9.0 device), and declares the <see cref="Accumulators"/> registers at the top of the kernel body when its asm
    /// uses them.</summary>
    public static string TargetWarpGroups(string ptx)
    {
        ArgumentNullException.ThrowIfNull(ptx);
        ptx = TargetDirective().Replace(ptx, ".target sm_90a", 1);
        if (ptx.Contains(Accumulators, StringComparison.Ordinal))
        {
            int body = EntryBody(ptx);
            if (body < 0)
            {
                throw new InvalidOperationException("The kernel's PTX has no entry body to declare the warpgroup accumulators in.");
            }

            ptx = string.Concat(ptx.AsSpan(0, body + 4), FormattableString.Invariant($"\n\t.reg .b32\t{Accumulators}<64>;"), ptx.AsSpan(body + 4));
        }

        return ptx;
    }

    /// <summary>The PTX's <c>.target sm_NN[a]</c> directive, its number in <c>version</c>.</summary>
    [GeneratedRegex(@"\.target\s+sm_(?<version>\d+)a?\b")]
    private static partial Regex TargetDirective();

    /// <summary>
    /// Adds <c>.maxnreg</c> to the kernel entry when <paramref name="maxRegisters"/> &gt; 0, so that ptxas keeps the
    /// kernel within that many registers per thread (and the occupancy they allow) instead of choosing more.
    /// </summary>
    public static string LimitRegisters(string ptx, int maxRegisters)
    {
        ArgumentNullException.ThrowIfNull(ptx);
        if (maxRegisters <= 0)
        {
            return ptx;
        }

        int body = EntryBody(ptx);
        return body < 0
            ? ptx
            : string.Concat(ptx.AsSpan(0, body + 3), FormattableString.Invariant($".maxnreg {maxRegisters}\n"), ptx.AsSpan(body + 3));
    }
}
