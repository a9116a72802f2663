using KernelGen.Generators.Helpers;

namespace KernelGen.Generators.Models;

/// <summary>
/// What the parser learns from one <c>[QuantScheme]</c> declaration: the model to emit (null when the declaration
/// is invalid), the diagnostics it raised, and where the scheme's name is spelled, for the duplicate-name check that
/// needs every scheme in the compilation.
/// </summary>
internal sealed record SchemeDeclaration(SchemeModel? Model, EquatableArray<DiagnosticInfo> Diagnostics, LocationInfo? NameLocation);
