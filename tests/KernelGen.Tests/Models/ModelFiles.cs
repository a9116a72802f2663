using System;
using System.IO;
using Xunit;

namespace KernelGen.Tests.Models;

/// <summary>Finds the shared stories260K files: $KERNELGEN_MODELS/stories260K, else ../shared/models/stories260K
/// beside the repository (where the workplace and CI lay it).</summary>
internal static class ModelFiles
{
    public static readonly string? Stories260K = Find();

    public static string Checkpoint => Path.Combine(Stories260K!, "stories260K.bin");

    public static string Tokenizer => Path.Combine(Stories260K!, "tok512.bin");

    public static string SentencePieceModel => Path.Combine(Stories260K!, "tok512.model");

    public static string Gguf => Path.Combine(Stories260K!, "stories260K.gguf");

    private static string? Find()
    {
        if (Environment.GetEnvironmentVariable("KERNELGEN_MODELS") is { Length: > 0 } root && Directory.Exists(Path.Combine(root, "stories260K")))
        {
            return Path.Combine(root, "stories260K");
        }

        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "KernelGen.sln")))
            {
                var candidate = Path.GetFullPath(Path.Combine(dir.FullName, "..", "shared", "models", "stories260K"));
                return File.Exists(Path.Combine(candidate, "stories260K.bin")) ? candidate : null;
            }
        }

        return null;
    }
}

/// <summary>A fact that needs the stories260K files; skipped, saying where they were looked for, when absent.</summary>
public sealed class ModelFactAttribute : FactAttribute
{
    public ModelFactAttribute()
    {
        if (ModelFiles.Stories260K is null)
        {
            Skip = "stories260K not found: set KERNELGEN_MODELS to a folder holding stories260K/, or lay ../shared/models/stories260K beside the repository (CI has it).";
        }
    }
}
