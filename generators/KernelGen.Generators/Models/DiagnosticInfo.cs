using KernelGen.Generators.Helpers;
using Microsoft.CodeAnalysis;

namespace KernelGen.Generators.Models;

/// <summary>
/// A diagnostic as values (descriptor, location, message arguments). The real <see cref="Diagnostic"/> is built
/// only when it is reported, because <see cref="Location"/> does not compare by value.
/// </summary>
internal sealed record DiagnosticInfo(DiagnosticDescriptor Descriptor, LocationInfo? Location, EquatableArray<string> Arguments)
{
    public static DiagnosticInfo Create(DiagnosticDescriptor descriptor, LocationInfo? location, params string[] arguments)
        => new(descriptor, location, arguments.ToEquatableArray());

    public Diagnostic ToDiagnostic()
    {
        var args = new object[Arguments.Length];
        for (int i = 0; i < args.Length; i++)
        {
            args[i] = Arguments[i];
        }

        return Diagnostic.Create(Descriptor, Location?.ToLocation(), args);
    }
}
