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
