using System.Collections.Generic;
using System.Collections.Immutable;
using KernelGen.Generators.Models;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp.Syntax;

namespace KernelGen.Generators;

/// <summary>
/// Expands every <c>[QuantScheme]</c> declaration into packing code, reference quantize/dequantize and ILGPU
/// kernels specialized for that bit width, group size and mode.
/// </summary>
/// <remarks>
/// Parser (attribute + symbol → <see cref="SchemeModel"/> + diagnostics) → Emitter (model → source). The emitter
/// sees only the equatable model, so editing an unrelated file re-emits nothing.
/// </remarks>
[Generator(LanguageNames.CSharp)]
public sealed partial class QuantSchemeGenerator : IIncrementalGenerator
{
    /// <summary>Tracking names of the pipeline steps, asserted by the incremental-caching tests.</summary>
    internal static class StepNames
    {
        public const string Declarations = nameof(Declarations);
        public const string Models = nameof(Models);
        public const string Names = nameof(Names);
    }

    /// <inheritdoc />
    public void Initialize(IncrementalGeneratorInitializationContext context)
    {
        // Gather every [QuantScheme] declaration as values: the model (or null), its diagnostics, its name's location.
        IncrementalValuesProvider<SchemeDeclaration> declarations = context.SyntaxProvider
            .ForAttributeWithMetadataName(
                Parser.AttributeMetadataName,
                predicate: static (node, _) => node is TypeDeclarationSyntax,
                transform: static (ctx, ct) => Parser.Parse(ctx, ct))
            .WithTrackingName(StepNames.Declarations);

        // Source output is fed by the equatable model alone, never by diagnostics or locations.
        IncrementalValuesProvider<SchemeModel> models = declarations
            .Where(static d => d.Model is not null)
            .Select(static (d, _) => d.Model!)
            .WithTrackingName(StepNames.Models);
        context.RegisterSourceOutput(models, static (spc, model) => spc.AddSource(model.HintName, Emitter.Emit(model)));

        // Report each declaration's own diagnostics on a separate pipeline (Location is not equatable).
        context.RegisterSourceOutput(
            declarations.Select(static (d, _) => d.Diagnostics),
            static (spc, diagnostics) =>
            {
                foreach (var diagnostic in diagnostics)
                {
                    spc.ReportDiagnostic(diagnostic.ToDiagnostic());
                }
            });

        // Scheme names must be unique across the compilation: that check needs all declarations at once.
        IncrementalValueProvider<ImmutableArray<SchemeDeclaration>> all = declarations
            .Where(static d => d.Model is not null)
            .Collect()
            .WithTrackingName(StepNames.Names);
        context.RegisterSourceOutput(all, static (spc, schemes) =>
        {
            foreach (var diagnostic in FindDuplicateNames(schemes))
            {
                spc.ReportDiagnostic(diagnostic.ToDiagnostic());
            }
        });
    }

    /// <summary>One KG0007 for every scheme whose name an earlier scheme (in ordinal type-name order) already uses.</summary>
    internal static List<DiagnosticInfo> FindDuplicateNames(ImmutableArray<SchemeDeclaration> schemes)
    {
        var result = new List<DiagnosticInfo>();
        var ordered = new List<SchemeDeclaration>(schemes);
        ordered.Sort(static (a, b) => string.CompareOrdinal(a.Model!.FullyQualifiedName, b.Model!.FullyQualifiedName));
        var firstByName = new Dictionary<string, SchemeModel>(System.StringComparer.OrdinalIgnoreCase);
        foreach (var scheme in ordered)
        {
            var model = scheme.Model!;
            if (firstByName.TryGetValue(model.SchemeName, out var first))
            {
                result.Add(DiagnosticInfo.Create(
                    DiagnosticDescriptors.DuplicateName,
                    scheme.NameLocation,
                    model.SchemeName,
                    first.FullyQualifiedName.Substring("global::".Length),
                    model.FullyQualifiedName.Substring("global::".Length)));
            }
            else
            {
                firstByName.Add(model.SchemeName, model);
            }
        }

        return result;
    }
}
