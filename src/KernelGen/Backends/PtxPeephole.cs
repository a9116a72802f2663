using System;
using System.Reflection;
using System.Text;
using System.Text.RegularExpressions;
using ILGPU.Backends.EntryPoints;
using ILGPU.Backends.PTX;
using ILGPU.Runtime;

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

    [GeneratedRegex(@"^\s*ld\.local\.(?<type>\w+)\s+(?<target>%\w+),\s*\[(?<address>%\w+)\];\s*$")]
    private static partial Regex Load();

    /// <summary>Forwards every <c>st.local</c> → <c>ld.local</c> pair on adjacent lines (same type and address) into a
    /// <c>mov</c>, and removes all <c>st.local</c> when no <c>ld.local</c> remains.</summary>
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

            var store = i > 0 ? Store().Match(lines[i - 1]) : Match.Empty;
            if (store.Success && store.Groups["type"].Value == load.Groups["type"].Value && store.Groups["address"].Value == load.Groups["address"].Value)
            {
                lines[i] = $"\tmov.{load.Groups["type"].Value}\t{load.Groups["target"].Value}, {store.Groups["value"].Value.Trim()};";
                forwarded++;
            }
        }

        if (forwarded == 0)
        {
            return ptx;
        }

        // Any other read of local memory (an unforwarded or vector load) keeps every store.
        bool loadsLeft = Array.Exists(lines, line => line.Contains("ld.local", StringComparison.Ordinal));
        var result = new StringBuilder(ptx.Length);
        foreach (var line in lines)
        {
            if (!loadsLeft && Store().IsMatch(line))
            {
                continue; // nothing reads local memory any more
            }

            result.Append(line).Append('\n');
        }

        return result.ToString(0, result.Length - 1);
    }

    /// <summary>Whether the CUDA tensor-core kernels load with <see cref="ForwardLocalStores"/> applied: yes unless
    /// KERNELGEN_PTX_PEEPHOLE=0 (the escape hatch, and how the benchmark times the kernels as ILGPU emits them).</summary>
    public static bool Enabled => Environment.GetEnvironmentVariable("KERNELGEN_PTX_PEEPHOLE") != "0";

    /// <summary>Compiles the explicitly grouped kernel <paramref name="method"/> with the accelerator's own PTX backend,
    /// applies <see cref="ForwardLocalStores"/> and loads it; the launcher's first argument is the stream. Null when
    /// this ILGPU does not expose what that needs (its backend and the compiled kernel's PTX are internal in 1.5.3 and
    /// reached by reflection): the caller then loads the kernel as ILGPU emits it.</summary>
    internal static TDelegate? LoadPatched<TDelegate>(Accelerator accelerator, MethodInfo method)
        where TDelegate : Delegate
    {
        const BindingFlags Any = BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Instance;
        var backend = typeof(Accelerator).GetProperty("Backend", Any)?.GetValue(accelerator) as ILGPU.Backends.Backend;
        var ptxField = typeof(PTXCompiledKernel).GetField("<PTXAssembly>k__BackingField", Any);
        if (backend is null || ptxField is null)
        {
            return null;
        }

        var compiled = (PTXCompiledKernel)backend.Compile(EntryPointDescription.FromExplicitlyGroupedKernel(method), KernelSpecialization.Empty);
        ptxField.SetValue(compiled, ForwardLocalStores(compiled.PTXAssembly, out _));
        return accelerator.LoadKernel(compiled).CreateLauncherDelegate<TDelegate>();
    }
}
