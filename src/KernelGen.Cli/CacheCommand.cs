using System;
using System.Globalization;
using KernelGen.Backends;

namespace KernelGen.Cli;

/// <summary><c>kernelgen cache [clear]</c>: where the compiled-kernel cache is (<see cref="KernelCache"/>), how much it
/// holds, and emptying it.</summary>
internal static class CacheCommand
{
    public const string Usage = "usage: kernelgen cache [clear]";

    public static int Run(string[] args)
    {
        if (args.Length > 1 || (args.Length == 1 && args[0] != "clear"))
        {
            Console.Error.WriteLine(Usage);
            return 2;
        }

        var cache = KernelCache.Default;
        if (cache is null)
        {
            Console.WriteLine($"kernel cache  off ({KernelCache.EnvironmentVariable}={Environment.GetEnvironmentVariable(KernelCache.EnvironmentVariable)}): every process compiles its CUDA kernels");
            return 0;
        }

        if (args.Length == 1)
        {
            int removed = cache.Clear();
            Console.WriteLine(FormattableString.Invariant($"kernel cache  {cache.Directory}: {removed} entries removed"));
            return 0;
        }

        var (entries, bytes) = cache.Measure();
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"kernel cache  {cache.Directory}: {entries} entries, {bytes / 1048576.0:F1} MiB (set {KernelCache.EnvironmentVariable} to a directory to move it, or off)"));
        return 0;
    }

    /// <summary>One line on what this process got from the cache, for commands that load CUDA kernels; null when it
    /// loaded none through it.</summary>
    public static string? Summary()
    {
        var cache = KernelCache.Default;
        if (cache is null || cache.Hits + cache.Compiled == 0)
        {
            return null;
        }

        string failures = cache.WriteFailures == 0 ? string.Empty : $"; {cache.WriteFailures} not stored: {cache.LastFailure}";
        return FormattableString.Invariant($"kernel cache  {cache.Directory}: {cache.Hits} loaded, {cache.Compiled} compiled{failures}");
    }
}
