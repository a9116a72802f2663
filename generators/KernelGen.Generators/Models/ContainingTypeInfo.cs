namespace KernelGen.Generators.Models;

/// <summary>A type that contains the scheme, captured as values: its keyword ("class", "struct", "record",
/// "record struct", "interface") and its name.</summary>
internal sealed record ContainingTypeInfo(string Keyword, string Name);
