using System;
using System.Collections.Generic;
using System.IO;
using System.Text;

namespace KernelGen.Formats.Gguf;

/// <summary>ggml tensor types this reader knows (values as in ggml.h).</summary>
public enum GgmlType
{
    /// <summary>float32.</summary>
    F32 = 0,

    /// <summary>IEEE binary16.</summary>
    F16 = 1,

    /// <summary>Blocks of 32: fp16 d, 16 bytes of nibbles; x = d · (q − 8).</summary>
    Q4_0 = 2,

    /// <summary>Blocks of 32: fp16 d, fp16 m, 16 bytes of nibbles; x = d · q + m.</summary>
    Q4_1 = 3,

    /// <summary>Blocks of 32: fp16 d, 32 int8; x = d · q.</summary>
    Q8_0 = 8,

    /// <summary>Super-blocks of 256 in 144 bytes: fp16 d and dmin, eight 6-bit (scale, min) pairs, 4-bit codes; x = d·sc·q − dmin·m.</summary>
    Q4_K = 12,

    /// <summary>Super-blocks of 256 in 210 bytes: 6-bit codes, sixteen int8 scales, fp16 d; x = d·sc·(q − 32).</summary>
    Q6_K = 14,

    /// <summary>int32 (KernelGen stores a generated scheme's packed codes and zero points as I32: <see cref="GgufSchemeTensors"/>).</summary>
    I32 = 26,
}

/// <summary>GGUF metadata value types (gguf.h).</summary>
public enum GgufValueType : uint
{
    /// <summary>uint8.</summary>
    UInt8 = 0,

    /// <summary>int8.</summary>
    Int8 = 1,

    /// <summary>uint16.</summary>
    UInt16 = 2,

    /// <summary>int16.</summary>
    Int16 = 3,

    /// <summary>uint32.</summary>
    UInt32 = 4,

    /// <summary>int32.</summary>
    Int32 = 5,

    /// <summary>float32.</summary>
    Float32 = 6,

    /// <summary>bool (one byte).</summary>
    Bool = 7,

    /// <summary>UTF-8 string with a uint64 length.</summary>
    String = 8,

    /// <summary>Typed array with a uint64 count.</summary>
    Array = 9,

    /// <summary>uint64.</summary>
    UInt64 = 10,

    /// <summary>int64.</summary>
    Int64 = 11,

    /// <summary>float64.</summary>
    Float64 = 12,
}

/// <summary>A metadata entry with its stored type (and element type for arrays), so it can be written back as read.</summary>
public sealed record GgufMetadata(string Key, GgufValueType Type, GgufValueType ElementType, object Value);

/// <summary>One tensor's header: name, shape (ggml order: Dimensions[0] is the contiguous one), type, data offset.</summary>
public sealed record GgufTensorInfo(string Name, long[] Dimensions, GgmlType Type, long Offset, long ByteCount)
{
    /// <summary>Number of elements.</summary>
    public long ElementCount
    {
        get
        {
            long n = 1;
            foreach (long d in Dimensions)
            {
                n *= d;
            }

            return n;
        }
    }

    /// <summary>Shape as rows × columns in row-major terms, e.g. "[512 × 64]" for ggml dims (64, 512).</summary>
    public string Shape => "[" + string.Join(" × ", Reverse(Dimensions)) + "]";

    private static IEnumerable<long> Reverse(long[] dims)
    {
        for (int i = dims.Length - 1; i >= 0; i--)
        {
            yield return dims[i];
        }
    }
}

/// <summary>
/// A GGUF file (versions 2 and 3): header, metadata, tensor infos and aligned tensor data. Untrusted input: every
/// count and length is bounded by the bytes that remain, every tensor must lie inside the file, and any violation
/// is a <see cref="ModelFormatException"/> naming the field and byte offset.
/// </summary>
public sealed class GgufFile
{
    private const uint Magic = 0x46554747; // "GGUF"
    private readonly byte[] data;

    private GgufFile(string path, byte[] data, int version, List<GgufMetadata> entries, Dictionary<string, object> metadata, List<GgufTensorInfo> tensors, long dataStart, int alignment)
    {
        Path = path;
        Entries = entries;
        this.data = data;
        Version = version;
        Metadata = metadata;
        Tensors = tensors;
        DataStart = dataStart;
        Alignment = alignment;
    }

    /// <summary>The file.</summary>
    public string Path { get; }

    /// <summary>GGUF version (2 or 3).</summary>
    public int Version { get; }

    /// <summary>Metadata values: integers as long or ulong, floats as double, bool, string, or object[] for arrays.</summary>
    public IReadOnlyDictionary<string, object> Metadata { get; }

    /// <summary>Metadata entries in file order, with their stored types.</summary>
    public IReadOnlyList<GgufMetadata> Entries { get; }

    /// <summary>Tensor headers in file order.</summary>
    public IReadOnlyList<GgufTensorInfo> Tensors { get; }

    /// <summary>Byte offset where tensor data begins.</summary>
    public long DataStart { get; }

    /// <summary>general.alignment (32 unless the file says otherwise).</summary>
    public int Alignment { get; }

    /// <summary>Reads a GGUF file.</summary>
    public static GgufFile Load(string path)
    {
        var bytes = File.ReadAllBytes(path);
        var reader = new Reader(path, bytes);
        if (bytes.Length < 24 || reader.U32("magic") != Magic)
        {
            throw new ModelFormatException(path, "magic", 0, "the file does not start with 'GGUF'");
        }

        int version = (int)reader.U32("version");
        if (version is not (2 or 3))
        {
            throw new ModelFormatException(path, "version", 4, $"GGUF version {version} is not supported (2 and 3 are)");
        }

        long tensorCount = reader.Count("tensor_count", minBytesEach: 24);
        long metadataCount = reader.Count("metadata_kv_count", minBytesEach: 12);
        var metadata = new Dictionary<string, object>(StringComparer.Ordinal);
        var entries = new List<GgufMetadata>();
        for (long i = 0; i < metadataCount; i++)
        {
            string key = reader.String($"metadata key {i}");
            var value = reader.Value(key, out var type, out var elementType);
            metadata[key] = value;
            entries.Add(new GgufMetadata(key, type, elementType, value));
        }

        int alignment = 32;
        if (metadata.TryGetValue("general.alignment", out var a))
        {
            long value = a switch { long l => l, ulong u when u <= int.MaxValue => (long)u, _ => -1 };
            if (value <= 0 || value > 1 << 20 || (value & (value - 1)) != 0)
            {
                throw new ModelFormatException(path, "general.alignment", 0, $"{value} is not a power of two up to 2^20");
            }

            alignment = (int)value;
        }

        var infos = new List<(string Name, long[] Dims, GgmlType Type, long Offset, long At)>();
        for (long i = 0; i < tensorCount; i++)
        {
            long at = reader.Position;
            string name = reader.String($"tensor {i} name");
            uint dims = reader.U32($"{name} n_dims");
            if (dims is 0 or > 4)
            {
                throw new ModelFormatException(path, $"{name} n_dims", at, $"{dims} dimensions (ggml tensors have 1 to 4)");
            }

            var shape = new long[dims];
            for (int d = 0; d < dims; d++)
            {
                ulong n = reader.U64($"{name} ne[{d}]");
                if (n == 0 || n > 1UL << 40)
                {
                    throw new ModelFormatException(path, $"{name} ne[{d}]", reader.Position - 8, $"{n} is not a plausible dimension");
                }

                shape[d] = (long)n;
            }

            uint type = reader.U32($"{name} type");
            if (!Enum.IsDefined(typeof(GgmlType), (int)type))
            {
                throw new ModelFormatException(path, $"{name} type", reader.Position - 4, $"ggml type {type} is not one this reader knows (F32, F16, Q4_0, Q4_1, Q8_0, Q4_K, Q6_K)");
            }

            ulong offset = reader.U64($"{name} offset");
            infos.Add((name, shape, (GgmlType)type, (long)Math.Min(offset, long.MaxValue), at));
        }

        long dataStart = (reader.Position + alignment - 1) / alignment * alignment;
        var tensors = new List<GgufTensorInfo>(infos.Count);
        foreach (var (name, dims, type, offset, at) in infos)
        {
            long elements = 1;
            foreach (long d in dims)
            {
                if (d > (1L << 40) / elements)
                {
                    throw new ModelFormatException(path, $"{name} ne", at, $"the dimensions {string.Join(" × ", dims)} exceed 2^40 elements");
                }

                elements *= d;
            }

            var (blockElements, blockBytes) = BlockSize(type);
            if (dims[0] % blockElements != 0)
            {
                throw new ModelFormatException(path, $"{name} ne[0]", at, $"{dims[0]} is not a multiple of {type}'s block of {blockElements}");
            }

            long byteCount = elements / blockElements * blockBytes;
            if (offset % alignment != 0 || dataStart + offset + byteCount > bytes.Length)
            {
                throw new ModelFormatException(path, $"{name} offset", at,
                    $"data at {dataStart}+{offset} for {byteCount} bytes {(offset % alignment != 0 ? "is not aligned" : "runs past the end of the file (" + bytes.Length + " bytes): truncated")}");
            }

            tensors.Add(new GgufTensorInfo(name, dims, type, offset, byteCount));
        }

        return new GgufFile(path, bytes, version, entries, metadata, tensors, dataStart, alignment);
    }

    /// <summary>Elements and bytes per block of a ggml type.</summary>
    public static (int Elements, int Bytes) BlockSize(GgmlType type) => type switch
    {
        GgmlType.F32 => (1, 4),
        GgmlType.F16 => (1, 2),
        GgmlType.Q4_0 => (32, 18),
        GgmlType.Q4_1 => (32, 20),
        GgmlType.Q8_0 => (32, 34),
        GgmlType.Q4_K => (256, 144),
        GgmlType.Q6_K => (256, 210),
        GgmlType.I32 => (1, 4),
        _ => throw new ArgumentOutOfRangeException(nameof(type), type, "unknown ggml type"),
    };

    /// <summary>The tensor named <paramref name="name"/>.</summary>
    /// <exception cref="ModelFormatException">No such tensor.</exception>
    public GgufTensorInfo Tensor(string name)
    {
        foreach (var t in Tensors)
        {
            if (t.Name == name)
            {
                return t;
            }
        }

        throw new ModelFormatException(Path, name, 0, "no tensor of that name in the file");
    }

    /// <summary>The tensor named <paramref name="name"/>, if there is one.</summary>
    public bool TryGetTensor(string name, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out GgufTensorInfo? tensor)
    {
        foreach (var t in Tensors)
        {
            if (t.Name == name)
            {
                tensor = t;
                return true;
            }
        }

        tensor = null;
        return false;
    }

    /// <summary>A tensor's raw bytes.</summary>
    public ReadOnlySpan<byte> Bytes(GgufTensorInfo tensor) => data.AsSpan((int)(DataStart + tensor.Offset), (int)tensor.ByteCount);

    /// <summary>A tensor dequantized to float32 (ggml order: element i of the contiguous dimension first).</summary>
    public float[] ReadFloats(GgufTensorInfo tensor)
    {
        ArgumentNullException.ThrowIfNull(tensor);
        var output = new float[tensor.ElementCount];
        GgmlDequantize.Row(tensor.Type, Bytes(tensor), output);
        return output;
    }

    /// <summary>A metadata value converted to <typeparamref name="T"/>, or <paramref name="fallback"/> when absent.</summary>
    /// <exception cref="ModelFormatException">The value has a type or size that does not convert.</exception>
    public T Get<T>(string key, T fallback)
        where T : IConvertible
        => Metadata.TryGetValue(key, out var value) ? Convert<T>(key, value) : fallback;

    /// <summary>A required metadata value.</summary>
    /// <exception cref="ModelFormatException">The key is missing, or its value does not convert.</exception>
    public T Require<T>(string key)
        where T : IConvertible
        => Metadata.TryGetValue(key, out var value)
            ? Convert<T>(key, value)
            : throw new ModelFormatException(Path, key, 0, "required metadata key is missing");

    private T Convert<T>(string key, object value)
    {
        try
        {
            return (T)System.Convert.ChangeType(value, typeof(T), System.Globalization.CultureInfo.InvariantCulture);
        }
        catch (Exception e) when (e is InvalidCastException or FormatException or OverflowException)
        {
            throw new ModelFormatException(Path, key, 0, $"the value {value} ({value.GetType().Name}) is not a {typeof(T).Name}");
        }
    }

    /// <summary>Bounds-checked little-endian reads that name what they read.</summary>
    private sealed class Reader
    {
        private readonly string path;
        private readonly byte[] bytes;

        public Reader(string path, byte[] bytes)
        {
            this.path = path;
            this.bytes = bytes;
        }

        public long Position { get; private set; }

        private ReadOnlySpan<byte> Take(int count, string field)
        {
            if (Position + count > bytes.Length)
            {
                throw new ModelFormatException(path, field, Position, $"needs {count} bytes but the file ends at {bytes.Length}: truncated");
            }

            var span = bytes.AsSpan((int)Position, count);
            Position += count;
            return span;
        }

        public uint U32(string field) => BitConverter.ToUInt32(Take(4, field));

        public ulong U64(string field) => BitConverter.ToUInt64(Take(8, field));

        /// <summary>A uint64 count, bounded by the bytes left (each element takes at least <paramref name="minBytesEach"/>).</summary>
        public long Count(string field, int minBytesEach)
        {
            long at = Position;
            ulong n = U64(field);
            if (n > (ulong)((bytes.Length - Position) / minBytesEach))
            {
                throw new ModelFormatException(path, field, at, $"{n} cannot fit in the {bytes.Length - Position} bytes that remain");
            }

            return (long)n;
        }

        public string String(string field)
        {
            long at = Position;
            ulong length = U64(field + " length");
            if (length > (ulong)(bytes.Length - Position))
            {
                throw new ModelFormatException(path, field, at, $"a string of {length} bytes runs past the end of the file: truncated or corrupted");
            }

            return Encoding.UTF8.GetString(Take((int)length, field));
        }

        public object Value(string key, out GgufValueType type, out GgufValueType elementType)
        {
            long at = Position;
            uint tag = U32(key + " type");
            type = (GgufValueType)tag;
            elementType = type;
            if (tag == 9)
            {
                uint elementTag = U32(key + " element type");
                if (elementTag == 9)
                {
                    throw new ModelFormatException(path, key + " element type", at + 4, "arrays of arrays are not supported");
                }

                elementType = (GgufValueType)elementTag;
                long count = Count(key + " count", minBytesEach: 1);
                var values = new object[count];
                for (long i = 0; i < count; i++)
                {
                    values[i] = Scalar(elementTag, key, at);
                }

                return values;
            }

            return Scalar(tag, key, at);
        }

        private object Scalar(uint type, string key, long at) => type switch
        {
            0 => (long)Take(1, key)[0],
            1 => (long)(sbyte)Take(1, key)[0],
            2 => (long)BitConverter.ToUInt16(Take(2, key)),
            3 => (long)BitConverter.ToInt16(Take(2, key)),
            4 => (long)BitConverter.ToUInt32(Take(4, key)),
            5 => (long)BitConverter.ToInt32(Take(4, key)),
            6 => (double)BitConverter.ToSingle(Take(4, key)),
            7 => Take(1, key)[0] != 0,
            8 => String(key),
            10 => BitConverter.ToUInt64(Take(8, key)),
            11 => BitConverter.ToInt64(Take(8, key)),
            12 => BitConverter.ToDouble(Take(8, key)),
            _ => throw new ModelFormatException(path, key + " type", at, $"value type {type} is not a GGUF type"),
        };
    }
}
