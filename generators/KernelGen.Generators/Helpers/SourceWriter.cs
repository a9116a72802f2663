using System;
using System.Text;

namespace KernelGen.Generators.Helpers;

/// <summary>
/// A StringBuilder with an indentation counter (after System.Text.Json's generator). Blocks opened with
/// <see cref="OpenBlock"/> must be closed; <see cref="ToString"/> asserts that they were.
/// </summary>
internal sealed class SourceWriter
{
    private const string IndentUnit = "    ";
    private readonly StringBuilder builder = new();

    public int Indentation { get; private set; }

    public SourceWriter Line(string text = "")
    {
        if (text.Length == 0)
        {
            builder.Append('\n');
            return this;
        }

        for (int i = 0; i < Indentation; i++)
        {
            builder.Append(IndentUnit);
        }

        builder.Append(text).Append('\n');
        return this;
    }

    /// <summary>Writes each line of a multi-line block at the current indentation.</summary>
    public SourceWriter Lines(string text)
    {
        foreach (var line in text.Replace("\r\n", "\n").Split('\n'))
        {
            Line(line);
        }

        return this;
    }

    public SourceWriter OpenBlock(string header)
    {
        Line(header);
        Line("{");
        Indentation++;
        return this;
    }

    public SourceWriter CloseBlock(string suffix = "")
    {
        if (Indentation == 0)
        {
            throw new InvalidOperationException("CloseBlock without a matching OpenBlock.");
        }

        Indentation--;
        Line("}" + suffix);
        return this;
    }

    public override string ToString()
    {
        if (Indentation != 0)
        {
            throw new InvalidOperationException($"Unbalanced blocks: indentation is {Indentation} at the end of the source.");
        }

        return builder.ToString();
    }
}
