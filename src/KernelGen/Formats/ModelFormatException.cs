using System;
using System.IO;

namespace KernelGen.Formats;

/// <summary>
/// A model or tokenizer file that cannot be read as its format says: truncated, corrupted, or with a header value
/// out of range. Names the file, the field and its byte offset.
/// </summary>
public sealed class ModelFormatException : IOException
{
    /// <summary>Creates the exception with a message naming the file, field and offset.</summary>
    public ModelFormatException(string path, string field, long offset, string problem)
        : base(FormattableString.Invariant($"{Path.GetFileName(path)}: {field} at byte {offset}: {problem}"))
    {
        FilePath = path;
        Field = field;
        Offset = offset;
    }

    /// <summary>The file.</summary>
    public string FilePath { get; }

    /// <summary>The field that could not be read or is invalid.</summary>
    public string Field { get; }

    /// <summary>Its byte offset in the file.</summary>
    public long Offset { get; }
}
