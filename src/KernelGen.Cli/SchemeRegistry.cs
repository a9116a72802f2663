using System;
using System.Collections.Generic;
using System.Linq;
using KernelGen.Formats.Gguf;

namespace KernelGen.Cli;

/// <summary>The tool's built-in schemes by name, and a generic call site for each (no reflection).</summary>
internal static class SchemeRegistry
{
    /// <summary>Calls <c>visitor.Visit&lt;TScheme&gt;()</c> for a scheme known by name.</summary>
    public interface IVisitor<out TResult>
    {
        TResult Visit<TScheme>()
            where TScheme : struct, IQuantScheme;
    }

    public static readonly string[] Names =
    {
        Q4G128.SchemeName, Q4G128Sym.SchemeName, Q8PerChannelSym.SchemeName, Q3G128.SchemeName, Q2G64.SchemeName, Q4G32.SchemeName, Q3G32.SchemeName,
        GgmlQ8_0.SchemeName, GgmlQ4_0.SchemeName,
    };

    public static string Check(string name) => Names.Contains(name, StringComparer.OrdinalIgnoreCase)
        ? Names.First(n => string.Equals(n, name, StringComparison.OrdinalIgnoreCase))
        : throw new ArgumentException($"Unknown scheme '{name}': use one of {string.Join(", ", Names)}.");

    public static TResult Visit<TResult>(string name, IVisitor<TResult> visitor) => Check(name) switch
    {
        Q4G128.SchemeName => visitor.Visit<Q4G128>(),
        Q4G128Sym.SchemeName => visitor.Visit<Q4G128Sym>(),
        Q8PerChannelSym.SchemeName => visitor.Visit<Q8PerChannelSym>(),
        Q3G128.SchemeName => visitor.Visit<Q3G128>(),
        Q2G64.SchemeName => visitor.Visit<Q2G64>(),
        Q4G32.SchemeName => visitor.Visit<Q4G32>(),
        Q3G32.SchemeName => visitor.Visit<Q3G32>(),
        GgmlQ8_0.SchemeName => visitor.Visit<GgmlQ8_0>(),
        GgmlQ4_0.SchemeName => visitor.Visit<GgmlQ4_0>(),
        _ => throw new InvalidOperationException("unreachable"),
    };

    public static IEnumerable<QuantSchemeInfo> Infos => new[] { Q4G128.Info, Q4G128Sym.Info, Q8PerChannelSym.Info, Q3G128.Info, Q2G64.Info, Q4G32.Info, Q3G32.Info, GgmlQ8_0.Info, GgmlQ4_0.Info };
}
