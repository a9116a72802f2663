using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Text;

namespace KernelGen.Formats.Gguf;

/// <summary>
/// Writes GGUF v3 as llama.cpp does: header, metadata in the order added, tensor infos, then each tensor's data at an
/// offset aligned to general.alignment (default 32), zero-padded. The file is written to a temporary name beside the
/// target and renamed into place, so a failed write leaves nothing half-written.
/// </summary>
public sealed class GgufWriter
{
    private readonly List<GgufMetadata> entries = new();
    private readonly List<(string Name, long[] Dimensions, GgmlType Type, byte[] Data)> tensors = new();

    /// <summary>A writer holding <paramref name="file"/>'s metadata and tensors, to be written back or changed.</summary>
    public static GgufWriter From(GgufFile file)
    {
        ArgumentNullException.ThrowIfNull(file);
        var writer = new GgufWriter();
        writer.entries.AddRange(file.Entries);
        foreach (var tensor in file.Tensors)
        {
            writer.tensors.Add((tensor.Name, tensor.Dimensions, tensor.Type, file.Bytes(tensor).ToArray()));
        }

        return writer;
    }

    /// <summary>Adds or replaces a metadata entry (replacing keeps its position).</summary>
    public GgufWriter Set(string key, GgufValueType type, object value, GgufValueType elementType = GgufValueType.UInt8)
    {
        ArgumentNullException.ThrowIfNull(key);
        var entry = new GgufMetadata(key, type, type == GgufValueType.Array ? elementType : type, value);
        int index = entries.FindIndex(e => e.Key == key);
        if (index >= 0)
        {
            entries[index] = entry;
        }
        else
        {
            entries.Add(entry);
        }

        return this;
    }

    /// <summary>Replaces a tensor's type, shape and data, keeping its position.</summary>
    /// <exception cref="ArgumentException">No such tensor, or data of the wrong size for the type and shape.</exception>
    public GgufWriter ReplaceTensor(string name, GgmlType type, long[] dimensions, byte[] data)
    {
        int index = tensors.FindIndex(t => t.Name == name);
        if (index < 0)
        {
            throw new ArgumentException($"No tensor named '{name}' to replace.", nameof(name));
        }

        CheckSize(name, type, dimensions, data);
        tensors[index] = (name, dimensions, type, data);
        return this;
    }

    /// <summary>Appends a tensor.</summary>
    public GgufWriter AddTensor(string name, GgmlType type, long[] dimensions, byte[] data)
    {
        CheckSize(name, type, dimensions, data);
        tensors.Add((name, dimensions, type, data));
        return this;
    }

    /// <summary>Writes the file atomically.</summary>
    public void Save(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        int alignment = 32;
        foreach (var entry in entries)
        {
            if (entry.Key == "general.alignment")
            {
                alignment = Convert.ToInt32(entry.Value, CultureInfo.InvariantCulture);
            }
        }

        var directory = Path.GetDirectoryName(Path.GetFullPath(path))!;
        var temporary = Path.Combine(directory, $".{Path.GetFileName(path)}.{Guid.NewGuid():N}.tmp");
        try
        {
            using (var stream = new FileStream(temporary, FileMode.CreateNew, FileAccess.Write))
            using (var w = new BinaryWriter(stream, Encoding.UTF8, leaveOpen: false))
            {
                w.Write(0x46554747u); // "GGUF"
                w.Write(3u);
                w.Write((ulong)tensors.Count);
                w.Write((ulong)entries.Count);
                foreach (var entry in entries)
                {
                    WriteString(w, entry.Key);
                    w.Write((uint)entry.Type);
                    if (entry.Type == GgufValueType.Array)
                    {
                        var values = (object[])entry.Value;
                        w.Write((uint)entry.ElementType);
                        w.Write((ulong)values.Length);
                        foreach (var value in values)
                        {
                            WriteScalar(w, entry.ElementType, value);
                        }
                    }
                    else
                    {
                        WriteScalar(w, entry.Type, entry.Value);
                    }
                }

                long offset = 0;
                foreach (var (name, dims, type, data) in tensors)
                {
                    WriteString(w, name);
                    w.Write((uint)dims.Length);
                    foreach (long d in dims)
                    {
                        w.Write((ulong)d);
                    }

                    w.Write((uint)type);
                    w.Write((ulong)offset);
                    offset = Align(offset + data.Length, alignment);
                }

                Pad(w, alignment);
                foreach (var (_, _, _, data) in tensors)
                {
                    w.Write(data);
                    Pad(w, alignment);
                }
            }

            File.Move(temporary, path, overwrite: true);
        }
        finally
        {
            if (File.Exists(temporary))
            {
                File.Delete(temporary);
            }
        }
    }

    private static void CheckSize(string name, GgmlType type, long[] dimensions, byte[] data)
    {
        ArgumentNullException.ThrowIfNull(dimensions);
        ArgumentNullException.ThrowIfNull(data);
        var (elements, bytes) = GgufFile.BlockSize(type);
        long count = 1;
        foreach (long d in dimensions)
        {
            count *= d;
        }

        if (dimensions.Length == 0 || dimensions[0] % elements != 0 || count / elements * bytes != data.Length)
        {
            throw new ArgumentException($"Tensor '{name}': {data.Length} bytes do not hold a {type} tensor of ggml shape ({string.Join(", ", dimensions)}).", nameof(data));
        }
    }

    private static long Align(long value, int alignment) => (value + alignment - 1) / alignment * alignment;

    private static void Pad(BinaryWriter w, int alignment)
    {
        long position = w.BaseStream.Position;
        for (long i = position; i < Align(position, alignment); i++)
        {
            w.Write((byte)0);
        }
    }

    private static void WriteString(BinaryWriter w, string text)
    {
        var bytes = Encoding.UTF8.GetBytes(text);
        w.Write((ulong)bytes.Length);
        w.Write(bytes);
    }

    private static void WriteScalar(BinaryWriter w, GgufValueType type, object value)
    {
        var c = CultureInfo.InvariantCulture;
        switch (type)
        {
            case GgufValueType.UInt8: w.Write(Convert.ToByte(value, c)); break;
            case GgufValueType.Int8: w.Write(Convert.ToSByte(value, c)); break;
            case GgufValueType.UInt16: w.Write(Convert.ToUInt16(value, c)); break;
            case GgufValueType.Int16: w.Write(Convert.ToInt16(value, c)); break;
            case GgufValueType.UInt32: w.Write(Convert.ToUInt32(value, c)); break;
            case GgufValueType.Int32: w.Write(Convert.ToInt32(value, c)); break;
            case GgufValueType.Float32: w.Write(Convert.ToSingle(value, c)); break;
            case GgufValueType.Bool: w.Write(Convert.ToBoolean(value, c) ? (byte)1 : (byte)0); break;
            case GgufValueType.String: WriteString(w, (string)value); break;
            case GgufValueType.UInt64: w.Write(Convert.ToUInt64(value, c)); break;
            case GgufValueType.Int64: w.Write(Convert.ToInt64(value, c)); break;
            case GgufValueType.Float64: w.Write(Convert.ToDouble(value, c)); break;
            default: throw new ArgumentException($"GGUF value type {type} cannot be written as a scalar.", nameof(type));
        }
    }
}
