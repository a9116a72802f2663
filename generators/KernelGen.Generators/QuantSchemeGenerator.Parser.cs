using System.Collections.Generic;
using System.Linq;
using System.Threading;
using KernelGen.Generators.Helpers;
using KernelGen.Generators.Models;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;

namespace KernelGen.Generators;

public sealed partial class QuantSchemeGenerator
{
    /// <summary>Turns one attributed declaration into a <see cref="SchemeDeclaration"/>; never throws on user code.</summary>
    internal static class Parser
    {
        public const string AttributeMetadataName = "KernelGen.QuantSchemeAttribute";

        /// <summary>Bit widths with generated unpacking code.</summary>
        public static readonly int[] SupportedBits = { 2, 3, 4, 5, 6, 8 };

        /// <summary>Group sizes along K; every one is a multiple of the 32-weight packing chunk.</summary>
        public static readonly int[] SupportedGroupSizes = { 32, 64, 128, 256, SchemeModel.PerChannel };

        /// <summary>Default of <c>QuantSchemeAttribute.GroupSize</c>.</summary>
        public const int DefaultGroupSize = 128;

        public static SchemeDeclaration Parse(GeneratorAttributeSyntaxContext context, CancellationToken cancellationToken)
        {
            var symbol = (INamedTypeSymbol)context.TargetSymbol;
            var syntax = (TypeDeclarationSyntax)context.TargetNode;
            var attribute = context.Attributes[0];
            var attributeSyntax = attribute.ApplicationSyntaxReference?.GetSyntax(cancellationToken) as AttributeSyntax;
            var typeLocation = LocationInfo.From(syntax.Identifier);
            var diagnostics = new List<DiagnosticInfo>();

            // The type itself: a non-generic, non-ref, partial struct whose containing types are partial too.
            if (symbol.TypeKind != TypeKind.Struct)
            {
                diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.NotStruct, typeLocation, symbol.Name, KindName(symbol)));
                return Invalid(diagnostics);
            }

            if (symbol.IsRefLikeType)
            {
                diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.RefStruct, typeLocation, symbol.Name));
            }

            if (!IsPartial(syntax))
            {
                diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.NotPartial, typeLocation, symbol.Name));
            }

            if (symbol.TypeParameters.Length > 0)
            {
                diagnostics.Add(DiagnosticInfo.Create(
                    DiagnosticDescriptors.GenericScheme, LocationInfo.From(syntax.TypeParameterList) ?? typeLocation, symbol.Name));
            }

            var containing = new List<ContainingTypeInfo>();
            for (var outer = symbol.ContainingType; outer is not null; outer = outer.ContainingType)
            {
                if (outer.TypeParameters.Length > 0)
                {
                    diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.NestedInGeneric, typeLocation, symbol.Name, outer.Name));
                }

                if (!outer.DeclaringSyntaxReferences.All(r => r.GetSyntax(cancellationToken) is TypeDeclarationSyntax t && IsPartial(t)))
                {
                    diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.ContainingTypeNotPartial, typeLocation, symbol.Name, outer.Name));
                }

                containing.Insert(0, new ContainingTypeInfo(KindKeyword(outer), outer.Name));
            }

            // The attribute's arguments, each checked at its own location.
            int bits = 0;
            int groupSize = DefaultGroupSize;
            bool symmetric = false;
            string schemeName = symbol.Name;
            foreach (var argument in attribute.NamedArguments)
            {
                switch (argument.Key)
                {
                    case "Bits" when argument.Value.Value is int b:
                        bits = b;
                        break;
                    case "GroupSize" when argument.Value.Value is int g:
                        groupSize = g;
                        break;
                    case "Symmetric" when argument.Value.Value is bool s:
                        symmetric = s;
                        break;
                    case "Name" when argument.Value.Value is string n:
                        schemeName = n;
                        break;
                }
            }

            var attributeLocation = LocationInfo.From(attributeSyntax) ?? typeLocation;
            if (System.Array.IndexOf(SupportedBits, bits) < 0)
            {
                var location = ArgumentLocation(attributeSyntax, "Bits") ?? attributeLocation;
                var shown = HasArgument(attribute, "Bits") ? bits.ToString(System.Globalization.CultureInfo.InvariantCulture) : "0 (not set)";
                diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.UnsupportedBits, location, shown));
            }

            if (System.Array.IndexOf(SupportedGroupSizes, groupSize) < 0)
            {
                diagnostics.Add(DiagnosticInfo.Create(
                    DiagnosticDescriptors.InvalidGroupSize,
                    ArgumentLocation(attributeSyntax, "GroupSize") ?? attributeLocation,
                    groupSize.ToString(System.Globalization.CultureInfo.InvariantCulture)));
            }

            var nameLocation = ArgumentLocation(attributeSyntax, "Name") ?? typeLocation;
            if (!IsValidSchemeName(schemeName))
            {
                diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.InvalidName, nameLocation, schemeName));
            }

            if (diagnostics.Count > 0)
            {
                return Invalid(diagnostics);
            }

            var model = new SchemeModel
            {
                Namespace = symbol.ContainingNamespace.IsGlobalNamespace ? string.Empty : symbol.ContainingNamespace.ToDisplayString(),
                TypeName = symbol.Name,
                TypeKeyword = symbol.IsRecord ? "record struct" : "struct",
                ContainingTypes = containing.ToEquatableArray(),
                SchemeName = schemeName,
                Bits = bits,
                GroupSize = groupSize,
                Symmetric = symmetric,
            };
            return new SchemeDeclaration(model, default, nameLocation);
        }

        private static SchemeDeclaration Invalid(List<DiagnosticInfo> diagnostics)
            => new(null, diagnostics.ToEquatableArray(), null);

        private static bool IsPartial(TypeDeclarationSyntax syntax) => syntax.Modifiers.Any(SyntaxKind.PartialKeyword);

        private static bool HasArgument(AttributeData attribute, string name)
            => attribute.NamedArguments.Any(a => a.Key == name);

        private static LocationInfo? ArgumentLocation(AttributeSyntax? attribute, string name)
        {
            var argument = attribute?.ArgumentList?.Arguments.FirstOrDefault(a => a.NameEquals?.Name.Identifier.ValueText == name);
            return LocationInfo.From(argument);
        }

        /// <summary>1 to 64 characters from [A-Za-z0-9_-]: names are typed on command lines and stored in files.</summary>
        internal static bool IsValidSchemeName(string name)
        {
            if (name.Length is 0 or > 64)
            {
                return false;
            }

            foreach (char c in name)
            {
                bool ok = c is (>= 'a' and <= 'z') or (>= 'A' and <= 'Z') or (>= '0' and <= '9') or '_' or '-';
                if (!ok)
                {
                    return false;
                }
            }

            return true;
        }

        private static string KindName(INamedTypeSymbol symbol) => symbol.TypeKind switch
        {
            TypeKind.Class when symbol.IsRecord => "record class",
            TypeKind.Class => "class",
            TypeKind.Interface => "interface",
            TypeKind.Enum => "enum",
            TypeKind.Delegate => "delegate",
            _ => symbol.TypeKind.ToString().ToLowerInvariant(),
        };

        private static string KindKeyword(INamedTypeSymbol symbol) => symbol.TypeKind switch
        {
            TypeKind.Struct when symbol.IsRecord => "record struct",
            TypeKind.Struct => "struct",
            TypeKind.Interface => "interface",
            _ when symbol.IsRecord => "record",
            _ => "class",
        };
    }
}
