using Microsoft.CodeAnalysis;

namespace KernelGen.Generators;

/// <summary>
/// Every diagnostic the [QuantScheme] generator reports. Each is an error at the offending attribute argument or
/// type name, and its message says how to fix the declaration. Keep in sync with AnalyzerReleases.Unshipped.md and
/// docs/diagnostics.md; each has a test named after it in DiagnosticTests.
/// </summary>
internal static class DiagnosticDescriptors
{
    private const string Category = "KernelGen.QuantScheme";

    /// <summary>KG0001: "Bits = {0} is not supported: set Bits to 2, 3, 4, 5, 6 or 8".</summary>
    public static readonly DiagnosticDescriptor UnsupportedBits = new(
        id: "KG0001",
        title: "Unsupported bit width",
        messageFormat: "Bits = {0} is not supported: set Bits to 2, 3, 4, 5, 6 or 8",
        category: Category,
        defaultSeverity: DiagnosticSeverity.Error,
        isEnabledByDefault: true);

    /// <summary>KG0002: "GroupSize = {0} is not supported: use 32, 64, 128 or 256, or QuantSchemeAttribute.PerChannel for one group per output row".</summary>
    public static readonly DiagnosticDescriptor InvalidGroupSize = new(
        id: "KG0002",
        title: "Invalid group size",
        messageFormat: "GroupSize = {0} is not supported: use 32, 64, 128 or 256, or QuantSchemeAttribute.PerChannel for one group per output row",
        category: Category,
        defaultSeverity: DiagnosticSeverity.Error,
        isEnabledByDefault: true);

    /// <summary>KG0003: "'{0}' must be partial: the generator adds the scheme's code as a second part of the type; declare it 'partial struct {0}'".</summary>
    public static readonly DiagnosticDescriptor NotPartial = new(
        id: "KG0003",
        title: "Scheme type is not partial",
        messageFormat: "'{0}' must be partial: the generator adds the scheme's code as a second part of the type; declare it 'partial struct {0}'",
        category: Category,
        defaultSeverity: DiagnosticSeverity.Error,
        isEnabledByDefault: true);

    /// <summary>KG0004: "'{0}' is a {1}: a quantization scheme must be a struct (a zero-size tag that kernels are specialized on); declare it 'partial struct {0}'".</summary>
    public static readonly DiagnosticDescriptor NotStruct = new(
        id: "KG0004",
        title: "Scheme type is not a struct",
        messageFormat: "'{0}' is a {1}: a quantization scheme must be a struct (a zero-size tag that kernels are specialized on); declare it 'partial struct {0}'",
        category: Category,
        defaultSeverity: DiagnosticSeverity.Error,
        isEnabledByDefault: true);

    /// <summary>KG0005: "'{0}' is generic: a scheme fixes its layout at build time and cannot have type parameters; declare one non-generic struct per scheme".</summary>
    public static readonly DiagnosticDescriptor GenericScheme = new(
        id: "KG0005",
        title: "Scheme type is generic",
        messageFormat: "'{0}' is generic: a scheme fixes its layout at build time and cannot have type parameters; declare one non-generic struct per scheme",
        category: Category,
        defaultSeverity: DiagnosticSeverity.Error,
        isEnabledByDefault: true);

    /// <summary>KG0006: "'{0}' is nested in '{1}', which is not partial: make '{1}' partial or move '{0}' to namespace scope".</summary>
    public static readonly DiagnosticDescriptor ContainingTypeNotPartial = new(
        id: "KG0006",
        title: "Containing type is not partial",
        messageFormat: "'{0}' is nested in '{1}', which is not partial: make '{1}' partial or move '{0}' to namespace scope",
        category: Category,
        defaultSeverity: DiagnosticSeverity.Error,
        isEnabledByDefault: true);

    /// <summary>KG0007: "Scheme name '{0}' is used by both '{1}' and '{2}': scheme names must be unique in a project; set Name = \"...\" on one of them".</summary>
    public static readonly DiagnosticDescriptor DuplicateName = new(
        id: "KG0007",
        title: "Two schemes with one name",
        messageFormat: "Scheme name '{0}' is used by both '{1}' and '{2}': scheme names must be unique in a project; set Name = \"...\" on one of them",
        category: Category,
        defaultSeverity: DiagnosticSeverity.Error,
        isEnabledByDefault: true);

    /// <summary>KG0008: "'{0}' is a ref struct: schemes are used as generic type arguments, which a ref struct cannot be; remove 'ref'".</summary>
    public static readonly DiagnosticDescriptor RefStruct = new(
        id: "KG0008",
        title: "Scheme type is a ref struct",
        messageFormat: "'{0}' is a ref struct: schemes are used as generic type arguments, which a ref struct cannot be; remove 'ref'",
        category: Category,
        defaultSeverity: DiagnosticSeverity.Error,
        isEnabledByDefault: true);

    /// <summary>KG0009: "Name = \"{0}\" is not a valid scheme name: use 1 to 64 letters, digits, '_' or '-' (it is typed on command lines and stored in files)".</summary>
    public static readonly DiagnosticDescriptor InvalidName = new(
        id: "KG0009",
        title: "Invalid scheme name",
        messageFormat: "Name = \"{0}\" is not a valid scheme name: use 1 to 64 letters, digits, '_' or '-' (it is typed on command lines and stored in files)",
        category: Category,
        defaultSeverity: DiagnosticSeverity.Error,
        isEnabledByDefault: true);

    /// <summary>KG0010: "'{0}' is nested in generic type '{1}': a scheme cannot depend on type parameters; move '{0}' out of '{1}'".</summary>
    public static readonly DiagnosticDescriptor NestedInGeneric = new(
        id: "KG0010",
        title: "Scheme nested in a generic type",
        messageFormat: "'{0}' is nested in generic type '{1}': a scheme cannot depend on type parameters; move '{0}' out of '{1}'",
        category: Category,
        defaultSeverity: DiagnosticSeverity.Error,
        isEnabledByDefault: true);
}
