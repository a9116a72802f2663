using System.IO;
using System.Text.Json;

namespace KernelGen.Cli.Bench;

/// <summary>Writes a bench report as indented JSON, atomically: a temporary file beside the target, then renamed.</summary>
internal static class BenchJson
{
    public static void Write(string path, object report)
    {
        var directory = Path.GetDirectoryName(Path.GetFullPath(path))!;
        Directory.CreateDirectory(directory);
        var temporary = path + ".tmp";
        File.WriteAllText(temporary, JsonSerializer.Serialize(report, new JsonSerializerOptions { WriteIndented = true }));
        File.Move(temporary, path, overwrite: true);
        System.Console.WriteLine($"wrote {path}");
    }
}
