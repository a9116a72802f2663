using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Text;

namespace KernelGen.Generators.Models;

/// <summary>A source location as plain values, so that diagnostics can be cached between runs.</summary>
internal sealed record LocationInfo(string FilePath, TextSpan Span, LinePositionSpan LineSpan)
{
    public Location ToLocation() => Location.Create(FilePath, Span, LineSpan);

    public static LocationInfo? From(Location? location)
    {
        if (location is null || location.SourceTree is null)
        {
            return null;
        }

        return new LocationInfo(location.SourceTree.FilePath, location.SourceSpan, location.GetLineSpan().Span);
    }

    public static LocationInfo? From(SyntaxNode? node) => From(node?.GetLocation());

    public static LocationInfo? From(SyntaxToken token) => From(token.GetLocation());
}
