using System;
using System.Collections.Generic;
using System.Linq;
using System.Reflection;
using KernelGen.Generators.Models;
using Microsoft.CodeAnalysis;
using Xunit;

namespace KernelGen.Generators.Tests;

/// <summary>The model that feeds the emitter must be pure values (STJ's JsonSourceGeneratorIncrementalTests).</summary>
public sealed class ModelTests
{
    [Fact]
    public void SchemeModel_HoldsNoSymbolsSyntaxOrCompilation()
    {
        var forbidden = new[] { typeof(ISymbol), typeof(Compilation), typeof(Location), typeof(SyntaxNode), typeof(SyntaxTree), typeof(SemanticModel) };
        var seen = new HashSet<Type>();
        var offenders = new List<string>();
        Walk(typeof(SchemeModel), "SchemeModel");
        Assert.Empty(offenders);

        void Walk(Type type, string path)
        {
            if (!seen.Add(type))
            {
                return;
            }

            if (forbidden.Any(f => f.IsAssignableFrom(type)))
            {
                offenders.Add($"{path}: {type.Name}");
                return;
            }

            foreach (var argument in type.IsGenericType ? type.GetGenericArguments() : Type.EmptyTypes)
            {
                Walk(argument, $"{path}<{argument.Name}>");
            }

            if (type.Assembly != typeof(SchemeModel).Assembly)
            {
                return;
            }

            foreach (var field in type.GetFields(BindingFlags.Instance | BindingFlags.Public | BindingFlags.NonPublic))
            {
                Walk(field.FieldType, $"{path}.{field.Name}");
            }
        }
    }

    [Fact]
    public void SameSource_ParsesToEqualModels()
    {
        const string source = "using KernelGen; namespace N; public static partial class Box { [QuantScheme(Bits = 5, GroupSize = 32)] public partial struct Q5; }";
        var first = Models(source);
        var second = Models(source);
        Assert.Single(first);
        Assert.Equal(first, second);
        Assert.Equal(first[0].GetHashCode(), second[0].GetHashCode());
        Assert.Equal("global::N.Box.Q5", first[0].FullyQualifiedName);
    }

    [Theory]
    [InlineData(3, new[] { "word 0 (bit 31 → 0): q10[1:0] q9 q8 q7 q6 q5 q4 q3 q2 q1 q0", "word 1 (bit 31 → 0): q21[0] q20 q19 q18 q17 q16 q15 q14 q13 q12 q11 q10[2]", "word 2 (bit 31 → 0): q31 q30 q29 q28 q27 q26 q25 q24 q23 q22 q21[2:1]" })]
    [InlineData(8, new[] { "word 0 (bit 31 → 0): q3 q2 q1 q0", "word 1 (bit 31 → 0): q7 q6 q5 q4", "word 2 (bit 31 → 0): q11 q10 q9 q8", "word 3 (bit 31 → 0): q15 q14 q13 q12", "word 4 (bit 31 → 0): q19 q18 q17 q16", "word 5 (bit 31 → 0): q23 q22 q21 q20", "word 6 (bit 31 → 0): q27 q26 q25 q24", "word 7 (bit 31 → 0): q31 q30 q29 q28" })]
    public void LayoutDrawing_NamesEveryBitOnce(int bits, string[] expected)
    {
        // Worked by hand: code j spans bits [bits·j, bits·j + bits) of the chunk.
        Assert.Equal(expected, QuantSchemeGenerator.Emitter.LayoutLines(bits));
    }

    private static SchemeModel[] Models(string source)
    {
        var compilation = GeneratorHarness.CreateCompilation(source);
        var run = GeneratorHarness.CreateDriver().RunGenerators(compilation).GetRunResult().Results.Single();
        return run.TrackedSteps[QuantSchemeGenerator.StepNames.Models]
            .SelectMany(s => s.Outputs)
            .Select(o => (SchemeModel)o.Value)
            .ToArray();
    }
}
