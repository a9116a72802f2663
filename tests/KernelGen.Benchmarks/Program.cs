using BenchmarkDotNet.Running;

namespace KernelGen.Benchmarks;

/// <summary>BenchmarkDotNet entry: pass --filter '*' (or a pattern) to choose benchmarks.</summary>
public static class Program
{
    public static void Main(string[] args) => BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
}
