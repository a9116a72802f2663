using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text.Json;

namespace KernelGen.Formats.Safetensors;

/// <summary>
/// A Hugging Face model directory: <c>config.json</c> plus its weights, either one <c>model.safetensors</c> or shards
/// listed by <c>model.safetensors.index.json</c>'s <c>weight_map</c>. Tensors are found by name across shards.
/// </summary>
public sealed class HuggingFaceCheckpoint : IDisposable
{
    private readonly List<SafetensorsFile> files;
    private readonly Dictionary<string, SafetensorsFile> owner;
    private readonly JsonDocument config;

    private HuggingFaceCheckpoint(string directory, JsonDocument config, List<SafetensorsFile> files)
    {
        Directory = directory;
        this.config = config;
        this.files = files;
        owner = new Dictionary<string, SafetensorsFile>(StringComparer.Ordinal);
        foreach (var file in files)
        {
            foreach (var tensor in file.Tensors)
            {
                if (!owner.TryAdd(tensor.Name, file))
                {
                    throw new ModelFormatException(file.Path, tensor.Name, tensor.Offset, $"also in {Path.GetFileName(owner[tensor.Name].Path)}: a tensor must live in one shard");
                }
            }
        }
    }

    /// <summary>The model directory.</summary>
    public string Directory { get; }

    /// <summary>config.json's root object.</summary>
    public JsonElement Config => config.RootElement;

    /// <summary>Every tensor name across the shards.</summary>
    public IEnumerable<string> TensorNames => owner.Keys;

    /// <summary>Opens <paramref name="directory"/> (or the directory of a <c>.safetensors</c> file or config.json inside it).</summary>
    /// <exception cref="FileNotFoundException">No config.json, or no safetensors weights.</exception>
    /// <exception cref="ModelFormatException">config.json or a shard cannot be read.</exception>
    public static HuggingFaceCheckpoint Open(string directory)
    {
        if (File.Exists(directory))
        {
            directory = Path.GetDirectoryName(Path.GetFullPath(directory))!;
        }

        string configPath = Path.Combine(directory, "config.json");
        if (!File.Exists(configPath))
        {
            throw new FileNotFoundException($"{directory} has no config.json: a Hugging Face model directory holds config.json beside its *.safetensors files.", configPath);
        }

        var config = ParseJson(configPath);
        var files = new List<SafetensorsFile>();
        try
        {
            string single = Path.Combine(directory, "model.safetensors");
            string index = Path.Combine(directory, "model.safetensors.index.json");
            if (File.Exists(single))
            {
                files.Add(SafetensorsFile.Open(single));
            }
            else if (File.Exists(index))
            {
                foreach (string shard in ShardNames(index))
                {
                    files.Add(SafetensorsFile.Open(Path.Combine(directory, shard)));
                }
            }
            else
            {
                throw new FileNotFoundException($"{directory} has neither model.safetensors nor model.safetensors.index.json (PyTorch .bin weights are not read: convert them to safetensors).", single);
            }

            return new HuggingFaceCheckpoint(directory, config, files);
        }
        catch
        {
            files.ForEach(f => f.Dispose());
            config.Dispose();
            throw;
        }
    }

    /// <summary>True when some shard holds <paramref name="name"/>.</summary>
    public bool Contains(string name) => owner.ContainsKey(name);

    /// <summary>Reads <paramref name="name"/> as float32 with the given shape.</summary>
    /// <exception cref="ModelFormatException">Missing, of another shape, or not floating point.</exception>
    public float[] Read(string name, params long[] shape)
        => owner.TryGetValue(name, out var file) ? file.ReadFloat32(name, shape)
            : throw new ModelFormatException(Path.Combine(Directory, "model.safetensors"), name, 0, "no shard holds this tensor (is this the model family the config says?)");

    /// <summary>An integer from config.json, or <paramref name="fallback"/> when absent (null: required).</summary>
    /// <exception cref="ModelFormatException">Required and absent, or not an integer.</exception>
    public int Int(string key, int? fallback = null)
    {
        if (!Config.TryGetProperty(key, out var value) || value.ValueKind == JsonValueKind.Null)
        {
            return fallback ?? throw new ModelFormatException(ConfigPath, key, 0, "required key is missing");
        }

        return value.ValueKind == JsonValueKind.Number && value.TryGetInt32(out int result) ? result
            : throw new ModelFormatException(ConfigPath, key, 0, $"{value.GetRawText()} is not an integer");
    }

    /// <summary>A number from config.json, or <paramref name="fallback"/> when absent.</summary>
    /// <exception cref="ModelFormatException">Not a number.</exception>
    public double Number(string key, double fallback)
    {
        if (!Config.TryGetProperty(key, out var value) || value.ValueKind == JsonValueKind.Null)
        {
            return fallback;
        }

        return value.ValueKind == JsonValueKind.Number ? value.GetDouble()
            : throw new ModelFormatException(ConfigPath, key, 0, $"{value.GetRawText()} is not a number");
    }

    /// <summary>A string from config.json, or <paramref name="fallback"/> when absent.</summary>
    public string String(string key, string fallback)
        => Config.TryGetProperty(key, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString()! : fallback;

    /// <summary>A boolean from config.json, or <paramref name="fallback"/> when absent.</summary>
    public bool Bool(string key, bool fallback)
        => Config.TryGetProperty(key, out var value) && value.ValueKind is JsonValueKind.True or JsonValueKind.False ? value.GetBoolean() : fallback;

    /// <summary>Path of config.json, for error messages.</summary>
    public string ConfigPath => Path.Combine(Directory, "config.json");

    /// <inheritdoc />
    public void Dispose()
    {
        files.ForEach(f => f.Dispose());
        config.Dispose();
    }

    private static JsonDocument ParseJson(string path)
    {
        var bytes = File.ReadAllBytes(path);
        try
        {
            var document = JsonDocument.Parse(bytes, new JsonDocumentOptions { MaxDepth = 16, AllowTrailingCommas = true });
            if (document.RootElement.ValueKind != JsonValueKind.Object)
            {
                document.Dispose();
                throw new ModelFormatException(path, "root", 0, "the JSON root is not an object");
            }

            return document;
        }
        catch (JsonException e)
        {
            throw new ModelFormatException(path, "JSON", e.BytePositionInLine ?? 0, $"line {e.LineNumber + 1}: {e.Message}");
        }
    }

    private static IEnumerable<string> ShardNames(string indexPath)
    {
        using var index = ParseJson(indexPath);
        if (!index.RootElement.TryGetProperty("weight_map", out var map) || map.ValueKind != JsonValueKind.Object)
        {
            throw new ModelFormatException(indexPath, "weight_map", 0, "missing: the index maps each tensor name to its shard");
        }

        var shards = new SortedSet<string>(StringComparer.Ordinal);
        foreach (var entry in map.EnumerateObject())
        {
            string shard = entry.Value.ValueKind == JsonValueKind.String ? entry.Value.GetString()! : string.Empty;
            if (shard.Length == 0 || Path.GetFileName(shard) != shard)
            {
                throw new ModelFormatException(indexPath, "weight_map." + entry.Name, 0, $"'{shard}' is not a shard file name in this directory");
            }

            shards.Add(shard);
        }

        return shards.ToList();
    }
}
