using System;
using System.Buffers.Binary;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Runtime.InteropServices;
using System.Text.Json;
using Microsoft.Win32.SafeHandles;

namespace KernelGen.Formats.Safetensors;

/// <summary>One tensor's entry in a safetensors header.</summary>
/// <param name="Name">Its name, e.g. <c>model.layers.0.self_attn.q_proj.weight</c>.</param>
/// <param name="DType">The header's dtype string: F64, F32, F16, BF16, I64, I32, I16, I8, U8, BOOL, F8_E4M3, F8_E5M2…</param>
/// <param name="Shape">Dimensions, outermost first (PyTorch order: a Linear weight is [out, in]).</param>
/// <param name="Offset">Absolute byte offset of its data in the file.</param>
/// <param name="ByteLength">Bytes of data.</param>
public sealed record SafetensorsTensor(string Name, string DType, long[] Shape, long Offset, long ByteLength)
{
    /// <summary>Number of elements (1 for a scalar).</summary>
    public long ElementCount => Shape.Aggregate(1L, (a, b) => a * b);

    /// <summary>The shape as PyTorch prints it.</summary>
    public string ShapeText => "[" + string.Join(", ", Shape) + "]";
}

/// <summary>
/// A safetensors file (Hugging Face's format): an 8-byte little-endian header length, a JSON header mapping each tensor
/// name to <c>{dtype, shape, data_offsets}</c> plus an optional <c>__metadata__</c> string map, then the data.
/// The header is validated the way the reference implementation does it before any tensor is read: bounded size,
/// offsets inside the file, byte lengths that match dtype × shape, and a data region covered exactly once.
/// Tensors are read on demand; F32, F16, BF16 and F64 convert to float32.
/// </summary>
public sealed class SafetensorsFile : IDisposable
{
    /// <summary>The reference implementation's cap on the header (100 MB).</summary>
    public const long MaxHeaderBytes = 100_000_000;

    private static readonly Dictionary<string, int> ElementSizes = new(StringComparer.Ordinal)
    {
        ["F64"] = 8, ["I64"] = 8, ["U64"] = 8,
        ["F32"] = 4, ["I32"] = 4, ["U32"] = 4,
        ["F16"] = 2, ["BF16"] = 2, ["I16"] = 2, ["U16"] = 2,
        ["I8"] = 1, ["U8"] = 1, ["BOOL"] = 1, ["F8_E4M3"] = 1, ["F8_E5M2"] = 1,
    };

    private readonly SafeFileHandle handle;
    private readonly Dictionary<string, SafetensorsTensor> byName;

    private SafetensorsFile(string path, SafeFileHandle handle, List<SafetensorsTensor> tensors, Dictionary<string, string> metadata, long dataStart)
    {
        Path = path;
        this.handle = handle;
        Tensors = tensors;
        Metadata = metadata;
        DataStart = dataStart;
        byName = tensors.ToDictionary(t => t.Name, StringComparer.Ordinal);
    }

    /// <summary>The file.</summary>
    public string Path { get; }

    /// <summary>Tensors in file order.</summary>
    public IReadOnlyList<SafetensorsTensor> Tensors { get; }

    /// <summary>The header's <c>__metadata__</c> (often <c>format: pt</c>).</summary>
    public IReadOnlyDictionary<string, string> Metadata { get; }

    /// <summary>Byte offset where tensor data begins (8 + header length).</summary>
    public long DataStart { get; }

    /// <summary>Opens and validates <paramref name="path"/>; tensor data is read later, on demand.</summary>
    /// <exception cref="ModelFormatException">The header is truncated, not JSON, or describes data outside the file.</exception>
    public static SafetensorsFile Open(string path)
    {
        var handle = File.OpenHandle(path, FileMode.Open, FileAccess.Read, FileShare.Read, FileOptions.RandomAccess);
        try
        {
            long length = RandomAccess.GetLength(handle);
            Span<byte> prefix = stackalloc byte[8];
            if (length < 8 || RandomAccess.Read(handle, prefix, 0) < 8)
            {
                throw new ModelFormatException(path, "header length", 0, $"the file has {length} bytes; a safetensors file starts with an 8-byte header length");
            }

            ulong headerLength = BinaryPrimitives.ReadUInt64LittleEndian(prefix);
            if (headerLength > MaxHeaderBytes || headerLength > (ulong)(length - 8))
            {
                throw new ModelFormatException(path, "header length", 0,
                    string.Create(CultureInfo.InvariantCulture, $"{headerLength} bytes is more than the {length - 8} bytes after it or the 100 MB limit (truncated, or not a safetensors file)"));
            }

            var header = new byte[headerLength];
            RandomAccess.Read(handle, header, 8);
            long dataStart = 8 + (long)headerLength;
            var (tensors, metadata) = ParseHeader(path, header, length - dataStart, dataStart);
            return new SafetensorsFile(path, handle, tensors, metadata, dataStart);
        }
        catch
        {
            handle.Dispose();
            throw;
        }
    }

    /// <summary>True when the file holds <paramref name="name"/>.</summary>
    public bool Contains(string name) => byName.ContainsKey(name);

    /// <summary>The entry for <paramref name="name"/>.</summary>
    /// <exception cref="ModelFormatException">No such tensor.</exception>
    public SafetensorsTensor Tensor(string name)
        => byName.TryGetValue(name, out var tensor) ? tensor
            : throw new ModelFormatException(Path, name, DataStart, "no such tensor in the file");

    /// <summary>Reads <paramref name="name"/> as float32, checking its shape against <paramref name="expectedShape"/>.</summary>
    /// <exception cref="ModelFormatException">Missing, of another shape, or of a dtype that is not floating point.</exception>
    public float[] ReadFloat32(string name, params long[] expectedShape)
    {
        var tensor = Tensor(name);
        if (!tensor.Shape.SequenceEqual(expectedShape))
        {
            throw new ModelFormatException(Path, name, tensor.Offset,
                $"shape {tensor.ShapeText} is not the [{string.Join(", ", expectedShape)}] that the model's config needs");
        }

        return ReadFloat32(tensor);
    }

    /// <summary>Reads a tensor as float32 (F32 as stored; F16, BF16 and F64 converted).</summary>
    /// <exception cref="ModelFormatException">Its dtype is not floating point.</exception>
    public float[] ReadFloat32(SafetensorsTensor tensor)
    {
        ArgumentNullException.ThrowIfNull(tensor);
        if (tensor.DType is not ("F32" or "F16" or "BF16" or "F64"))
        {
            throw new ModelFormatException(Path, tensor.Name, tensor.Offset, $"dtype {tensor.DType} is not a floating-point type (F32, F16, BF16 or F64)");
        }

        long count = tensor.ElementCount;
        if (count > Array.MaxLength)
        {
            throw new ModelFormatException(Path, tensor.Name, tensor.Offset, $"{count} elements do not fit one .NET array");
        }

        var result = new float[count];
        var raw = new byte[Math.Min(tensor.ByteLength, 1 << 24)];
        int elementSize = ElementSizes[tensor.DType];
        long done = 0;
        while (done < count)
        {
            int chunkElements = (int)Math.Min(raw.Length / elementSize, count - done);
            var bytes = raw.AsSpan(0, chunkElements * elementSize);
            int read = RandomAccess.Read(handle, bytes, tensor.Offset + (done * elementSize));
            if (read < bytes.Length)
            {
                throw new ModelFormatException(Path, tensor.Name, tensor.Offset + (done * elementSize) + read, "the file ends inside the tensor's data");
            }

            Convert(tensor.DType, bytes, result.AsSpan((int)done, chunkElements));
            done += chunkElements;
        }

        return result;
    }

    /// <inheritdoc />
    public void Dispose() => handle.Dispose();

    private static void Convert(string dtype, ReadOnlySpan<byte> bytes, Span<float> output)
    {
        switch (dtype)
        {
            case "F32":
                MemoryMarshal.Cast<byte, float>(bytes).CopyTo(output);
                break;
            case "F16":
                var halves = MemoryMarshal.Cast<byte, Half>(bytes);
                for (int i = 0; i < output.Length; i++)
                {
                    output[i] = (float)halves[i];
                }

                break;
            case "BF16":
                // bfloat16 is the top half of a float32's bits.
                var words = MemoryMarshal.Cast<byte, ushort>(bytes);
                for (int i = 0; i < output.Length; i++)
                {
                    output[i] = BitConverter.Int32BitsToSingle(words[i] << 16);
                }

                break;
            default:
                var doubles = MemoryMarshal.Cast<byte, double>(bytes);
                for (int i = 0; i < output.Length; i++)
                {
                    output[i] = (float)doubles[i];
                }

                break;
        }
    }

    private static (List<SafetensorsTensor> Tensors, Dictionary<string, string> Metadata) ParseHeader(string path, byte[] header, long dataLength, long dataStart)
    {
        if (!System.Text.Unicode.Utf8.IsValid(header))
        {
            throw new ModelFormatException(path, "header", 8, "the header is not valid UTF-8 (corrupted, or not a safetensors file)");
        }

        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(header, new JsonDocumentOptions { MaxDepth = 8 });
        }
        catch (JsonException e)
        {
            throw new ModelFormatException(path, "header", 8 + (e.BytePositionInLine ?? 0), $"not valid JSON: {e.Message}");
        }

        using (document)
        {
            if (document.RootElement.ValueKind != JsonValueKind.Object)
            {
                throw new ModelFormatException(path, "header", 8, $"the header is a JSON {document.RootElement.ValueKind}, not an object");
            }

            var tensors = new List<SafetensorsTensor>();
            var metadata = new Dictionary<string, string>(StringComparer.Ordinal);
            var names = new HashSet<string>(StringComparer.Ordinal);
            foreach (var property in document.RootElement.EnumerateObject())
            {
                if (property.Name == "__metadata__")
                {
                    if (property.Value.ValueKind != JsonValueKind.Object)
                    {
                        throw new ModelFormatException(path, "__metadata__", 8, "must be an object of strings");
                    }

                    foreach (var entry in property.Value.EnumerateObject())
                    {
                        metadata[entry.Name] = entry.Value.ValueKind == JsonValueKind.String ? entry.Value.GetString()!
                            : throw new ModelFormatException(path, "__metadata__." + entry.Name, 8, "metadata values must be strings");
                    }

                    continue;
                }

                if (!names.Add(property.Name))
                {
                    throw new ModelFormatException(path, property.Name, 8, "the tensor name appears twice in the header");
                }

                tensors.Add(ParseTensor(path, property, dataLength, dataStart));
            }

            // The data region must be covered exactly once: no overlaps, no holes (as the reference reader requires).
            long expected = 0;
            foreach (var tensor in tensors.OrderBy(t => t.Offset).ThenBy(t => t.ByteLength))
            {
                if (tensor.Offset - dataStart != expected)
                {
                    throw new ModelFormatException(path, tensor.Name + ".data_offsets", 8,
                        string.Create(CultureInfo.InvariantCulture, $"begins at data byte {tensor.Offset - dataStart}, but the previous tensor ends at {expected}: tensors overlap or leave a hole"));
                }

                expected += tensor.ByteLength;
            }

            if (expected != dataLength)
            {
                throw new ModelFormatException(path, "data", dataStart + expected,
                    string.Create(CultureInfo.InvariantCulture, $"the tensors cover {expected} bytes but {dataLength} follow the header"));
            }

            return (tensors, metadata);
        }
    }

    private static SafetensorsTensor ParseTensor(string path, JsonProperty property, long dataLength, long dataStart)
    {
        string name = property.Name;
        var value = property.Value;
        if (value.ValueKind != JsonValueKind.Object
            || !value.TryGetProperty("dtype", out var dtypeElement) || dtypeElement.ValueKind != JsonValueKind.String
            || !value.TryGetProperty("shape", out var shapeElement) || shapeElement.ValueKind != JsonValueKind.Array
            || !value.TryGetProperty("data_offsets", out var offsetsElement) || offsetsElement.ValueKind != JsonValueKind.Array
            || offsetsElement.GetArrayLength() != 2)
        {
            throw new ModelFormatException(path, name, 8, "a tensor entry needs dtype (string), shape (array) and data_offsets ([begin, end])");
        }

        string dtype = dtypeElement.GetString()!;
        if (!ElementSizes.TryGetValue(dtype, out int elementSize))
        {
            throw new ModelFormatException(path, name + ".dtype", 8, $"unknown dtype '{dtype}'");
        }

        var shape = new long[shapeElement.GetArrayLength()];
        long elements = 1;
        int i = 0;
        foreach (var dim in shapeElement.EnumerateArray())
        {
            if (dim.ValueKind != JsonValueKind.Number || !dim.TryGetInt64(out long size) || size < 0)
            {
                throw new ModelFormatException(path, name + ".shape", 8, $"dimension {i} is {dim.GetRawText()}, not a non-negative integer");
            }

            shape[i++] = size;
            elements = size == 0 ? 0 : elements <= long.MaxValue / size / elementSize ? elements * size
                : throw new ModelFormatException(path, name + ".shape", 8, "the element count overflows 64 bits");
        }

        long begin = ReadOffset(path, name, offsetsElement[0]);
        long end = ReadOffset(path, name, offsetsElement[1]);
        if (begin > end || end > dataLength)
        {
            throw new ModelFormatException(path, name + ".data_offsets", 8,
                string.Create(CultureInfo.InvariantCulture, $"[{begin}, {end}] is not a range inside the {dataLength} data bytes"));
        }

        if (end - begin != elements * elementSize)
        {
            throw new ModelFormatException(path, name + ".data_offsets", 8,
                string.Create(CultureInfo.InvariantCulture, $"{end - begin} bytes do not hold {dtype} {string.Join("×", shape)} ({elements * elementSize} bytes)"));
        }

        return new SafetensorsTensor(name, dtype, shape, dataStart + begin, end - begin);
    }

    private static long ReadOffset(string path, string name, JsonElement element)
        => element.ValueKind == JsonValueKind.Number && element.TryGetInt64(out long value) && value >= 0 ? value
            : throw new ModelFormatException(path, name + ".data_offsets", 8, $"{element.GetRawText()} is not a non-negative integer offset");
}
