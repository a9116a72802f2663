using System;
using System.Globalization;
using System.IO;
using System.Linq;
using KernelGen.Formats.Gguf;
using KernelGen.Formats.Llama2C;
using KernelGen.Formats.Safetensors;

namespace KernelGen.Cli;

/// <summary><c>kernelgen inspect FILE</c>: tensors (name, type, shape, bytes) and metadata of a GGUF or llama2.c file.</summary>
internal static class InspectCommand
{
    public static int Run(string[] args)
    {
        if (args.Length != 1)
        {
            Console.Error.WriteLine("usage: kernelgen inspect FILE.gguf|FILE.bin|FILE.safetensors|HF-DIRECTORY");
            return 2;
        }

        string path = args[0];
        if (!File.Exists(path) && !Directory.Exists(path))
        {
            throw new ArgumentException($"'{path}' does not exist.");
        }

        if (ModelLoader.IsHuggingFace(path))
        {
            InspectSafetensors(path);
        }
        else if (path.EndsWith(".gguf", StringComparison.OrdinalIgnoreCase))
        {
            var file = GgufFile.Load(path);
            Console.WriteLine(FormattableString.Invariant($"{Path.GetFileName(path)}: GGUF v{file.Version}, {file.Tensors.Count} tensors, {file.Metadata.Count} metadata keys, alignment {file.Alignment}, data at byte {file.DataStart}"));
            Console.WriteLine();
            Console.WriteLine($"{"tensor",-28} {"type",-6} {"shape",-16} {"bytes",12}");
            foreach (var t in file.Tensors)
            {
                Console.WriteLine(FormattableString.Invariant($"{t.Name,-28} {t.Type,-6} {t.Shape,-16} {t.ByteCount,12:N0}"));
            }

            Console.WriteLine();
            foreach (var (key, value) in file.Metadata.OrderBy(kv => kv.Key, StringComparer.Ordinal))
            {
                string shown = value is object[] array
                    ? $"[{array.Length} values: {string.Join(", ", array.Take(5).Select(Show))}{(array.Length > 5 ? ", …" : string.Empty)}]"
                    : Show(value);
                Console.WriteLine($"{key,-44} {shown}");
            }
        }
        else
        {
            var weights = Llama2CCheckpoint.Load(path);
            var c = weights.Config;
            Console.WriteLine($"{Path.GetFileName(path)}: llama2.c checkpoint, {new FileInfo(path).Length:N0} bytes");
            Console.WriteLine($"dim {c.Dim}, hidden {c.HiddenDim}, layers {c.Layers}, heads {c.Heads}, kv heads {c.KvHeads}, vocab {c.VocabSize}, seq_len {c.SeqLen}, classifier {(c.SharedClassifier ? "shared with the embedding" : "separate")}");
            foreach (var (name, array, shape) in new[]
            {
                ("token_embedding", weights.TokenEmbedding, $"[{c.VocabSize} × {c.Dim}]"), ("wq", weights.Wq, $"{c.Layers} × [{c.Dim} × {c.Dim}]"),
                ("wk", weights.Wk, $"{c.Layers} × [{c.KvDim} × {c.Dim}]"), ("wv", weights.Wv, $"{c.Layers} × [{c.KvDim} × {c.Dim}]"),
                ("wo", weights.Wo, $"{c.Layers} × [{c.Dim} × {c.Dim}]"), ("w1", weights.W1, $"{c.Layers} × [{c.HiddenDim} × {c.Dim}]"),
                ("w2", weights.W2, $"{c.Layers} × [{c.Dim} × {c.HiddenDim}]"), ("w3", weights.W3, $"{c.Layers} × [{c.HiddenDim} × {c.Dim}]"),
            })
            {
                Console.WriteLine(FormattableString.Invariant($"{name,-16} F32    {shape,-20} {array.Length * 4L,12:N0}"));
            }
        }

        return 0;
    }

    private static void InspectSafetensors(string path)
    {
        var files = new System.Collections.Generic.List<SafetensorsFile>();
        try
        {
            if (path.EndsWith(".safetensors", StringComparison.OrdinalIgnoreCase) && !File.Exists(Path.Combine(Path.GetDirectoryName(Path.GetFullPath(path))!, "config.json")))
            {
                files.Add(SafetensorsFile.Open(path));
            }
            else
            {
                string directory = Directory.Exists(path) ? path : Path.GetDirectoryName(Path.GetFullPath(path))!;
                files.AddRange(Directory.GetFiles(directory, "*.safetensors").Order(StringComparer.Ordinal).Select(SafetensorsFile.Open));
                string config = Path.Combine(directory, "config.json");
                if (File.Exists(config))
                {
                    Console.WriteLine($"config.json: {string.Join(" ", File.ReadAllText(config).Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries))}");
                    Console.WriteLine();
                }
            }

            foreach (var file in files)
            {
                Console.WriteLine(FormattableString.Invariant($"{Path.GetFileName(file.Path)}: safetensors, {file.Tensors.Count} tensors, header {file.DataStart - 8:N0} bytes, metadata {{{string.Join(", ", file.Metadata.Select(kv => kv.Key + ": " + kv.Value))}}}"));
                Console.WriteLine($"{"tensor",-52} {"type",-6} {"shape",-16} {"bytes",14}");
                foreach (var t in file.Tensors)
                {
                    Console.WriteLine(FormattableString.Invariant($"{t.Name,-52} {t.DType,-6} {t.ShapeText,-16} {t.ByteLength,14:N0}"));
                }

                Console.WriteLine();
            }
        }
        finally
        {
            files.ForEach(f => f.Dispose());
        }
    }

    private static string Show(object value) => value switch
    {
        string s => "\"" + (s.Length > 60 ? s[..60] + "…" : s).Replace("\n", "\\n", StringComparison.Ordinal) + "\"",
        double d => d.ToString("G7", CultureInfo.InvariantCulture),
        _ => Convert.ToString(value, CultureInfo.InvariantCulture) ?? string.Empty,
    };
}
