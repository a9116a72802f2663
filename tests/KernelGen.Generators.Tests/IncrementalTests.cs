using System.Linq;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Xunit;

namespace KernelGen.Generators.Tests;

/// <summary>
/// The pipeline's cache: editing a file that declares no scheme must not re-emit anything, and editing an attribute
/// must re-emit exactly that scheme (after dotnet/runtime's LoggerMessageGeneratorIncrementalTests).
/// </summary>
public sealed class IncrementalTests
{
    private const string Schemes = """
        using KernelGen;
        namespace N;
        [QuantScheme(Bits = 4, GroupSize = 128)] public partial struct Q4;
        [QuantScheme(Bits = 3, GroupSize = 64, Symmetric = true)] public partial struct Q3;
        """;

    private const string Unrelated = "namespace N; public static class Helpers { public static int One() => 1; }";

    [Fact]
    public void UnrelatedEdit_LeavesModelsAndOutputsCachedOrUnchanged()
    {
        var compilation = GeneratorHarness.CreateCompilation(Schemes, Unrelated);
        var driver = GeneratorHarness.CreateDriver().RunGenerators(compilation);

        var unrelatedTree = compilation.SyntaxTrees.Last();
        var edited = compilation.ReplaceSyntaxTree(
            unrelatedTree,
            CSharpSyntaxTree.ParseText("namespace N; public static class Helpers { public static int Two() => 2; }", GeneratorHarness.ParseOptions, path: unrelatedTree.FilePath));
        var result = driver.RunGenerators(edited).GetRunResult().Results.Single();

        var modelReasons = result.TrackedSteps[QuantSchemeGenerator.StepNames.Models]
            .SelectMany(step => step.Outputs).Select(o => o.Reason).ToArray();
        Assert.Equal(2, modelReasons.Length);
        Assert.All(modelReasons, r => Assert.True(r is IncrementalStepRunReason.Cached or IncrementalStepRunReason.Unchanged, $"model step was {r}"));

        var outputReasons = result.TrackedOutputSteps.SelectMany(s => s.Value).SelectMany(s => s.Outputs).Select(o => o.Reason).ToArray();
        Assert.NotEmpty(outputReasons);
        Assert.All(outputReasons, r => Assert.True(r is IncrementalStepRunReason.Cached or IncrementalStepRunReason.Unchanged, $"output step was {r}"));
    }

    [Fact]
    public void AttributeEdit_ModifiesOnlyThatScheme()
    {
        var compilation = GeneratorHarness.CreateCompilation(Schemes, Unrelated);
        var driver = GeneratorHarness.CreateDriver().RunGenerators(compilation);

        var schemesTree = compilation.SyntaxTrees.First();
        var edited = compilation.ReplaceSyntaxTree(
            schemesTree,
            CSharpSyntaxTree.ParseText(Schemes.Replace("Bits = 4, GroupSize = 128", "Bits = 4, GroupSize = 32"), GeneratorHarness.ParseOptions, path: schemesTree.FilePath));
        var result = driver.RunGenerators(edited).GetRunResult().Results.Single();

        var reasons = result.TrackedSteps[QuantSchemeGenerator.StepNames.Models]
            .SelectMany(step => step.Outputs).Select(o => o.Reason).ToArray();
        Assert.Equal(1, reasons.Count(r => r == IncrementalStepRunReason.Modified));
        Assert.Equal(1, reasons.Count(r => r is IncrementalStepRunReason.Cached or IncrementalStepRunReason.Unchanged));
        Assert.Contains("GroupSize = 32", result.GeneratedSources.Single(s => s.HintName == "N.Q4.QuantScheme.g.cs").SourceText.ToString());
    }
}
