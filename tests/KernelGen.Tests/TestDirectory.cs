using System;
using System.IO;

namespace KernelGen.Tests;

/// <summary>A fresh directory under the system's temporary one for a test class's files (one per test: xunit builds the
/// class anew for each), deleted with everything in it on <see cref="Dispose"/>.</summary>
internal sealed class TestDirectory : IDisposable
{
    /// <summary>Names the directory <paramref name="prefix"/> and a new GUID; creates it unless
    /// <paramref name="create"/> is false (for tests of commands that must create their output directory).</summary>
    public TestDirectory(string prefix, bool create = true)
    {
        FullPath = Path.Combine(Path.GetTempPath(), prefix + Guid.NewGuid().ToString("N"));
        if (create)
        {
            Directory.CreateDirectory(FullPath);
        }
    }

    public string FullPath { get; }

    public void Dispose()
    {
        if (Directory.Exists(FullPath))
        {
            Directory.Delete(FullPath, recursive: true);
        }
    }
}
