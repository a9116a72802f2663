using KernelGen.Generators.Helpers;

namespace KernelGen.Generators.Models;

/// <summary>
/// Everything the emitter needs to write one scheme, and nothing else.
/// </summary>
/// <remarks>
/// The model must be immutable with pointwise value equality and must hold no <c>ISymbol</c>, <c>Location</c>,
/// <c>SyntaxNode</c> or <c>Compilation</c>: the incremental pipeline compares it with the previous run's model to
/// decide whether to emit again, and any reference-equal member would make every keystroke re-emit every scheme
/// (System.Text.Json's TypeGenerationSpec states the same rule). A test walks this type by reflection to keep it so.
/// </remarks>
internal sealed record SchemeModel
{
    /// <summary>Namespace of the scheme type, empty for the global namespace.</summary>
    public required string Namespace { get; init; }

    /// <summary>The type's simple name, e.g. <c>Q4G128</c>.</summary>
    public required string TypeName { get; init; }

    /// <summary>"struct" or "record struct": the keywords a second partial declaration must repeat.</summary>
    public required string TypeKeyword { get; init; }

    /// <summary>Containing types, outermost first, for a scheme nested in partial types.</summary>
    public required EquatableArray<ContainingTypeInfo> ContainingTypes { get; init; }

    /// <summary>The scheme's name as the runtime and the command line know it.</summary>
    public required string SchemeName { get; init; }

    /// <summary>Bits per weight code: 2, 3, 4, 5, 6 or 8.</summary>
    public required int Bits { get; init; }

    /// <summary>Weights per group along K (32, 64, 128, 256), or <see cref="PerChannel"/>.</summary>
    public required int GroupSize { get; init; }

    /// <summary>True for symmetric (scale only), false for asymmetric (scale and zero point).</summary>
    public required bool Symmetric { get; init; }

    /// <summary>The attribute's <c>PerChannel</c> value: one group spans a whole row.</summary>
    public const int PerChannel = -1;

    public bool IsPerChannel => GroupSize == PerChannel;

    /// <summary><c>global::</c>-qualified name of the scheme type, for use in emitted code.</summary>
    public string FullyQualifiedName
    {
        get
        {
            var prefix = Namespace.Length == 0 ? "global::" : "global::" + Namespace + ".";
            foreach (var containing in ContainingTypes)
            {
                prefix += containing.Name + ".";
            }

            return prefix + TypeName;
        }
    }

    /// <summary>Deterministic hint name for the generated file, unique per type.</summary>
    public string HintName
    {
        get
        {
            var name = FullyQualifiedName.Substring("global::".Length).Replace('<', '_').Replace('>', '_');
            return $"{name}.QuantScheme.g.cs";
        }
    }
}
