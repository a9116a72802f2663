using System;
using System.Collections.Immutable;
using System.IO;
using System.Linq;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;

namespace KernelGen.Generators.Tests;

/// <summary>Compiles source against the runtime and ILGPU, runs the generator over it, and returns what came out.</summary>
internal static class GeneratorHarness
{
    private static readonly Lazy<ImmutableArray<MetadataReference>> References = new(() =>
    {
        // Every framework assembly, plus the runtime (attribute, IQuantScheme) and ILGPU, as a user project has them.
        var trusted = ((string)AppContext.GetData("TRUSTED_PLATFORM_ASSEMBLIES")!).Split(Path.PathSeparator);
        var extra = new[] { typeof(QuantSchemeAttribute).Assembly.Location, typeof(ILGPU.Context).Assembly.Location };
        return trusted.Concat(extra).Distinct().Select(p => (MetadataReference)MetadataReference.CreateFromFile(p)).ToImmutableArray();
    });

    public static readonly CSharpParseOptions ParseOptions = new(LanguageVersion.Latest);

    public static CSharpCompilation CreateCompilation(params string[] sources) => CSharpCompilation.Create(
        "UserAssembly",
        sources.Select((s, i) => CSharpSyntaxTree.ParseText(s, ParseOptions, path: $"Source{i}.cs")),
        References.Value,
        new CSharpCompilationOptions(OutputKind.DynamicallyLinkedLibrary, nullableContextOptions: NullableContextOptions.Enable, allowUnsafe: true));

    public static GeneratorDriver CreateDriver() => CSharpGeneratorDriver.Create(
        new[] { new QuantSchemeGenerator().AsSourceGenerator() },
        parseOptions: ParseOptions,
        driverOptions: new GeneratorDriverOptions(IncrementalGeneratorOutputKind.None, trackIncrementalGeneratorSteps: true));

    /// <summary>Runs the generator once and compiles the result.</summary>
    public static GeneratorOutput Run(params string[] sources)
    {
        var compilation = CreateCompilation(sources);
        var driver = CreateDriver().RunGeneratorsAndUpdateCompilation(compilation, out var output, out _);
        var result = driver.GetRunResult();
        var compileErrors = output.GetDiagnostics().Where(d => d.Severity == DiagnosticSeverity.Error).ToImmutableArray();
        return new GeneratorOutput(result, compileErrors);
    }
}

/// <summary>The generator's run result and the errors of compiling the user code together with the generated code.</summary>
internal sealed record GeneratorOutput(GeneratorDriverRunResult Result, ImmutableArray<Diagnostic> CompileErrors)
{
    public ImmutableArray<Diagnostic> GeneratorDiagnostics => Result.Diagnostics;

    public string Source(string hintName)
    {
        var generated = Result.Results.Single().GeneratedSources.SingleOrDefault(s => s.HintName == hintName);
        if (generated.SourceText is null)
        {
            var names = string.Join(", ", Result.Results.Single().GeneratedSources.Select(s => s.HintName));
            throw new InvalidOperationException($"No generated source named '{hintName}'; generated: [{names}].");
        }

        return generated.SourceText.ToString();
    }
}
