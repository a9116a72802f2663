using Xunit;

namespace KernelGen.Generators.Tests;

/// <summary>
/// The generated source of representative schemes, compared with committed snapshots, and compiled with the user's
/// code without errors. Review a snapshot diff as you would review hand-written kernels.
/// </summary>
public sealed class SnapshotTests
{
    [Theory]
    [InlineData("Q4G128Asym", 4, "128", false)]
    [InlineData("Q3G64Sym", 3, "64", true)]
    [InlineData("Q8PerChannelSym", 8, "QuantSchemeAttribute.PerChannel", true)]
    [InlineData("Q2G32Asym", 2, "32", false)]
    [InlineData("Q5G32Asym", 5, "32", false)]
    public void GeneratedSource_MatchesSnapshot(string name, int bits, string groupSize, bool symmetric)
    {
        var source = $$"""
            using KernelGen;

            namespace Models.Schemes;

            [QuantScheme(Bits = {{bits}}, GroupSize = {{groupSize}}, Symmetric = {{(symmetric ? "true" : "false")}})]
            public partial struct {{name}};
            """;
        var output = GeneratorHarness.Run(source);
        Assert.Empty(output.GeneratorDiagnostics);
        Assert.Empty(output.CompileErrors);
        Snapshot.Verify(output.Source($"Models.Schemes.{name}.QuantScheme.g.cs"), name);
    }

    [Fact]
    public void EverySupportedCombination_Compiles()
    {
        var source = new System.Text.StringBuilder("using KernelGen;\nnamespace All;\n");
        foreach (int bits in new[] { 2, 3, 4, 5, 6, 8 })
        {
            foreach (string group in new[] { "32", "64", "128", "256", "QuantSchemeAttribute.PerChannel" })
            {
                foreach (bool symmetric in new[] { false, true })
                {
                    string name = $"B{bits}G{(group.Length > 3 ? "PC" : group)}{(symmetric ? "S" : "A")}";
                    source.Append($"[QuantScheme(Bits = {bits}, GroupSize = {group}, Symmetric = {(symmetric ? "true" : "false")})] public partial struct {name};\n");
                }
            }
        }

        var output = GeneratorHarness.Run(source.ToString());
        Assert.Empty(output.GeneratorDiagnostics);
        Assert.Empty(output.CompileErrors);
        Assert.Equal(6 * 5 * 2, System.Linq.Enumerable.Single(output.Result.Results).GeneratedSources.Length);
    }

    [Fact]
    public void Output_IsDeterministic_AndIndependentOfDeclarationOrder()
    {
        const string a = "using KernelGen; namespace N; [QuantScheme(Bits = 4)] public partial struct A;";
        const string b = "using KernelGen; namespace N; [QuantScheme(Bits = 3, GroupSize = 32)] public partial struct B;";
        var first = GeneratorHarness.Run(a, b);
        var second = GeneratorHarness.Run(b, a);
        Assert.Equal(first.Source("N.A.QuantScheme.g.cs"), second.Source("N.A.QuantScheme.g.cs"));
        Assert.Equal(first.Source("N.B.QuantScheme.g.cs"), second.Source("N.B.QuantScheme.g.cs"));
    }
}
