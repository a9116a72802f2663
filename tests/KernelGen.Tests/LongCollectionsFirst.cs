using System;
using System.Collections.Generic;
using System.Linq;
using Xunit;
using Xunit.Abstractions;
using Xunit.Sdk;

[assembly: TestCollectionOrderer("KernelGen.Tests.LongCollectionsFirst", "KernelGen.Tests")]

namespace KernelGen.Tests;

/// <summary>Marks a collection definition whose tests take minutes (about <paramref name="minutes"/> on the 2-core CI
/// machine): <see cref="LongCollectionsFirst"/> starts it before the others, the longest first.</summary>
[AttributeUsage(AttributeTargets.Class)]
public sealed class LongCollectionAttribute(double minutes) : Attribute
{
    public double Minutes { get; } = minutes;
}

/// <summary>
/// Starts the collections marked <see cref="LongCollectionAttribute"/> first, the longest first, then the rest in xunit's
/// default order. xunit runs as many collections at once as there are cores and starts them in this order, so a long
/// collection started late runs alone at the end: on the 2-core CI machine PtxPeepholeTests (~4½ min on one core)
/// began after MiniLmQuantizationTests and ran its last 100 s with the other core idle.
/// </summary>
public sealed class LongCollectionsFirst : ITestCollectionOrderer
{
    private static readonly string Marker = typeof(LongCollectionAttribute).AssemblyQualifiedName!;

    private readonly DefaultTestCollectionOrderer rest = new();

    public IEnumerable<ITestCollection> OrderTestCollections(IEnumerable<ITestCollection> testCollections)
    {
        var ordered = rest.OrderTestCollections(testCollections).ToList();
        var first = ordered.Where(c => Minutes(c) > 0).OrderByDescending(Minutes).ThenBy(c => c.DisplayName, StringComparer.Ordinal).ToList();
        return first.Concat(ordered.Where(c => Minutes(c) == 0));
    }

    /// <summary>The minutes a collection's definition declares (<see cref="LongCollectionAttribute"/>), or 0.</summary>
    private static double Minutes(ITestCollection collection)
        => collection.CollectionDefinition?.GetCustomAttributes(Marker).Select(a => a.GetConstructorArguments().OfType<double>().Single()).FirstOrDefault() ?? 0;
}

public sealed class LongCollectionsFirstTests
{
    [Fact]
    public void MarkedCollections_ComeFirst_LongestFirst_AndNoneIsLost()
    {
        var assembly = new TestAssembly(Reflector.Wrap(typeof(LongCollectionsFirstTests).Assembly));
        TestCollection Collection(Type? definition, string name) => new(assembly, definition is null ? null : Reflector.Wrap(definition), name);
        var collections = new[]
        {
            Collection(null, "Test collection for KernelGen.Tests.KernelCacheTests"),
            Collection(typeof(Models.CommandLineCollection), Models.CommandLineCollection.Name),
            Collection(typeof(DeviceCollection), DeviceCollection.Name),
            Collection(typeof(PtxCollection), PtxCollection.Name),
            Collection(typeof(Models.EncoderCalibrationCollection), Models.EncoderCalibrationCollection.Name),
        };

        var ordered = new LongCollectionsFirst().OrderTestCollections(collections).Select(c => c.DisplayName).ToList();
        Assert.Equal([PtxCollection.Name, Models.EncoderCalibrationCollection.Name, Models.CommandLineCollection.Name], ordered.Take(3));
        Assert.Equal(collections.Select(c => c.DisplayName).Order(StringComparer.Ordinal), ordered.Order(StringComparer.Ordinal));
    }
}
