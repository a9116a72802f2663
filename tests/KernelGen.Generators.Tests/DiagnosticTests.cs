using System.Linq;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Text;
using Xunit;

namespace KernelGen.Generators.Tests;

/// <summary>
/// One test per descriptor, named after it: the source marks the expected location with [| |]; the test asserts the
/// ID, the exact span, the severity and the full message, and that nothing else was reported.
/// </summary>
public sealed class DiagnosticTests
{
    [Fact]
    public void KG0001_UnsupportedBits_AtBitsArgument() => AssertDiagnostic(
        "[QuantScheme([|Bits = 7|], GroupSize = 64)] public partial struct S;",
        "KG0001",
        "Bits = 7 is not supported: set Bits to 2, 3, 4, 5, 6 or 8");

    [Fact]
    public void KG0001_MissingBits_AtAttribute() => AssertDiagnostic(
        "[[|QuantScheme(GroupSize = 64)|]] public partial struct S;",
        "KG0001",
        "Bits = 0 (not set) is not supported: set Bits to 2, 3, 4, 5, 6 or 8");

    [Fact]
    public void KG0002_InvalidGroupSize_AtGroupSizeArgument() => AssertDiagnostic(
        "[QuantScheme(Bits = 4, [|GroupSize = 100|])] public partial struct S;",
        "KG0002",
        "GroupSize = 100 is not supported: use 32, 64, 128 or 256, or QuantSchemeAttribute.PerChannel for one group per output row");

    [Fact]
    public void KG0002_GroupSizeZero_IsRejected() => AssertDiagnostic(
        "[QuantScheme(Bits = 4, [|GroupSize = 0|])] public partial struct S;",
        "KG0002",
        "GroupSize = 0 is not supported: use 32, 64, 128 or 256, or QuantSchemeAttribute.PerChannel for one group per output row");

    [Fact]
    public void KG0003_NotPartial_AtTypeName() => AssertDiagnostic(
        "[QuantScheme(Bits = 4)] public struct [|S|] { }",
        "KG0003",
        "'S' must be partial: the generator adds the scheme's code as a second part of the type; declare it 'partial struct S'");

    [Fact]
    public void KG0004_NotStruct_Class_AtTypeName() => AssertDiagnostic(
        "[QuantScheme(Bits = 4)] public partial class [|S|] { }",
        "KG0004",
        "'S' is a class: a quantization scheme must be a struct (a zero-size tag that kernels are specialized on); declare it 'partial struct S'");

    [Fact]
    public void KG0004_NotStruct_RecordClass_AtTypeName() => AssertDiagnostic(
        "[QuantScheme(Bits = 4)] public partial record [|S|];",
        "KG0004",
        "'S' is a record class: a quantization scheme must be a struct (a zero-size tag that kernels are specialized on); declare it 'partial struct S'");

    [Fact]
    public void KG0005_GenericScheme_AtTypeParameters() => AssertDiagnostic(
        "[QuantScheme(Bits = 4)] public partial struct S[|<T>|] { }",
        "KG0005",
        "'S' is generic: a scheme fixes its layout at build time and cannot have type parameters; declare one non-generic struct per scheme");

    [Fact]
    public void KG0006_ContainingTypeNotPartial_AtTypeName() => AssertDiagnostic(
        "public static class Outer { [QuantScheme(Bits = 4)] public partial struct [|S|]; }",
        "KG0006",
        "'S' is nested in 'Outer', which is not partial: make 'Outer' partial or move 'S' to namespace scope");

    [Fact]
    public void KG0007_DuplicateName_AtSecondNameArgument() => AssertDiagnostic(
        """
        namespace A { [QuantScheme(Bits = 4, Name = "q4")] public partial struct S; }
        namespace B { [QuantScheme(Bits = 8, [|Name = "q4"|])] public partial struct S; }
        """,
        "KG0007",
        "Scheme name 'q4' is used by both 'A.S' and 'B.S': scheme names must be unique in a project; set Name = \"...\" on one of them");

    [Fact]
    public void KG0007_DuplicateDefaultName_AtSecondTypeName() => AssertDiagnostic(
        """
        namespace A { [QuantScheme(Bits = 4)] public partial struct Q4; }
        namespace B { [QuantScheme(Bits = 4, Symmetric = true)] public partial struct [|Q4|]; }
        """,
        "KG0007",
        "Scheme name 'Q4' is used by both 'A.Q4' and 'B.Q4': scheme names must be unique in a project; set Name = \"...\" on one of them");

    [Fact]
    public void KG0008_RefStruct_AtTypeName() => AssertDiagnostic(
        "[QuantScheme(Bits = 4)] public ref partial struct [|S|] { }",
        "KG0008",
        "'S' is a ref struct: schemes are used as generic type arguments, which a ref struct cannot be; remove 'ref'");

    [Fact]
    public void KG0009_InvalidName_AtNameArgument() => AssertDiagnostic(
        "[QuantScheme(Bits = 4, [|Name = \"q4 g128\"|])] public partial struct S;",
        "KG0009",
        "Name = \"q4 g128\" is not a valid scheme name: use 1 to 64 letters, digits, '_' or '-' (it is typed on command lines and stored in files)");

    [Fact]
    public void KG0010_NestedInGeneric_AtTypeName() => AssertDiagnostic(
        "public partial class Outer<T> { [QuantScheme(Bits = 4)] public partial struct [|S|]; }",
        "KG0010",
        "'S' is nested in generic type 'Outer': a scheme cannot depend on type parameters; move 'S' out of 'Outer'");

    [Fact]
    public void ValidDeclarations_ReportNothing_AndCompile()
    {
        var output = GeneratorHarness.Run(
            """
            using KernelGen;
            namespace N
            {
                [QuantScheme(Bits = 4)] public partial struct Q4;
                [QuantScheme(Bits = 6, GroupSize = 32, Symmetric = true, Name = "q6-sym")] public readonly partial record struct Q6;
                public static partial class Holder { [QuantScheme(Bits = 2, GroupSize = 64)] internal partial struct Q2; }
            }
            """);
        Assert.Empty(output.GeneratorDiagnostics);
        Assert.Empty(output.CompileErrors);
        Assert.Equal(3, output.Result.Results.Single().GeneratedSources.Length);
    }

    [Fact]
    public void InvalidDeclaration_EmitsNoSource()
    {
        var output = GeneratorHarness.Run("using KernelGen; [QuantScheme(Bits = 9)] public partial struct S;");
        Assert.Empty(output.Result.Results.Single().GeneratedSources);
    }

    private static void AssertDiagnostic(string markedSource, string id, string message)
    {
        var source = "using KernelGen;\n" + markedSource;
        int start = source.IndexOf("[|", System.StringComparison.Ordinal);
        int end = source.IndexOf("|]", System.StringComparison.Ordinal) - 2;
        Assert.True(start >= 0 && end >= start, "The test source must mark the expected location with [| |].");
        source = source.Replace("[|", string.Empty).Replace("|]", string.Empty);

        var output = GeneratorHarness.Run(source);
        var diagnostic = Assert.Single(output.GeneratorDiagnostics);
        Assert.Equal(id, diagnostic.Id);
        Assert.Equal(DiagnosticSeverity.Error, diagnostic.Severity);
        Assert.Equal(message, diagnostic.GetMessage(System.Globalization.CultureInfo.InvariantCulture));
        Assert.Equal("Source0.cs", diagnostic.Location.GetLineSpan().Path);
        Assert.Equal(TextSpan.FromBounds(start, end), diagnostic.Location.SourceSpan);
    }
}
