using Xunit;

namespace KernelGen.Tests.Models;

/// <summary>
/// Test classes that run <c>KernelGen.Cli.Program.Main</c>. The commands write to the process's one
/// <see cref="System.Console"/>, and a test that reads a command's output back swaps <c>Console.Out</c> for a while: a
/// command running beside it in another class would write into that capture (CI saw <c>eval</c>'s summary table land
/// in <c>run</c>'s generated text). xunit runs the classes of one collection one after another (about 3 minutes here:
/// <see cref="LongCollectionAttribute"/>).
/// </summary>
[CollectionDefinition(Name)]
[LongCollection(3)]
public sealed class CommandLineCollection
{
    public const string Name = "command line";
}
