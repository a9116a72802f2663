using System;
using System.IO;
using System.Runtime.CompilerServices;
using System.Text;
using DiffPlex.DiffBuilder;
using DiffPlex.DiffBuilder.Model;
using Xunit.Sdk;

namespace KernelGen.Generators.Tests;

/// <summary>
/// Verify.Xunit's workflow without Verify (not served here): the committed <c>Snapshots/NAME.verified.cs</c> is the
/// expected text; on a mismatch the actual text goes to <c>NAME.received.cs</c> beside it and the test fails with a
/// line diff. Set KERNELGEN_ACCEPT_SNAPSHOTS=1 to write the received text as the new verified file.
/// </summary>
internal static class Snapshot
{
    public const string AcceptVariable = "KERNELGEN_ACCEPT_SNAPSHOTS";

    public static void Verify(string actual, string name, [CallerFilePath] string callerPath = "")
    {
        var directory = Path.Combine(Path.GetDirectoryName(callerPath)!, "Snapshots");
        var verifiedPath = Path.Combine(directory, name + ".verified.cs");
        var receivedPath = Path.Combine(directory, name + ".received.cs");
        actual = Normalize(actual);

        if (Environment.GetEnvironmentVariable(AcceptVariable) == "1")
        {
            Directory.CreateDirectory(directory);
            File.WriteAllText(verifiedPath, actual, new UTF8Encoding(false));
            File.Delete(receivedPath);
            return;
        }

        if (!File.Exists(verifiedPath))
        {
            File.WriteAllText(receivedPath, actual, new UTF8Encoding(false));
            throw new XunitException($"No snapshot {verifiedPath}. The generated text is in {receivedPath}; review it and run with {AcceptVariable}=1 to accept.");
        }

        var expected = Normalize(File.ReadAllText(verifiedPath));
        if (expected == actual)
        {
            File.Delete(receivedPath);
            return;
        }

        File.WriteAllText(receivedPath, actual, new UTF8Encoding(false));
        throw new XunitException($"Generated source differs from {verifiedPath} (actual text in {receivedPath}; accept with {AcceptVariable}=1):\n{Diff(expected, actual)}");
    }

    private static string Normalize(string text) => text.Replace("\r\n", "\n").TrimStart('\uFEFF');

    /// <summary>The changed lines with two lines of context, '-' expected, '+' actual.</summary>
    private static string Diff(string expected, string actual)
    {
        var model = InlineDiffBuilder.Diff(expected, actual);
        var builder = new StringBuilder();
        var lines = model.Lines;
        int shown = 0;
        for (int i = 0; i < lines.Count && shown < 200; i++)
        {
            bool near = false;
            for (int j = Math.Max(0, i - 2); j <= Math.Min(lines.Count - 1, i + 2); j++)
            {
                near |= lines[j].Type != ChangeType.Unchanged;
            }

            if (!near)
            {
                continue;
            }

            var prefix = lines[i].Type switch { ChangeType.Inserted => "+ ", ChangeType.Deleted => "- ", _ => "  " };
            builder.Append(prefix).Append(lines[i].Position?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "   ").Append(": ").AppendLine(lines[i].Text);
            shown++;
        }

        return builder.ToString();
    }
}
