using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using KernelGen.Formats.Onnx;
using KernelGen.Formats.Safetensors;
using KernelGen.Models;

namespace KernelGen.Cli;

/// <summary><c>kernelgen embed MODEL [--vocab vocab.txt] [--heads 12] TEXT...</c>: sentence embeddings and their cosine similarities.</summary>
internal static class EmbedCommand
{
    private const string Usage = "usage: kernelgen embed MODEL [--vocab vocab.txt] [--heads 12] TEXT [TEXT...]\n" +
        "MODEL is a BERT-family sentence encoder (e.g. all-MiniLM-L6-v2): an ONNX file exported by PyTorch (--heads gives its head count),\n" +
        "or a Hugging Face directory (config.json + model.safetensors). vocab.txt defaults to the file beside the model.";

    public static int Run(string[] args)
    {
        if (args.Length < 2)
        {
            throw new ArgumentException(Usage);
        }

        string model = args[0];
        string? vocab = null;
        int heads = 12;
        var texts = new List<string>();
        for (int i = 1; i < args.Length; i++)
        {
            switch (args[i])
            {
                case "--vocab" when i + 1 < args.Length: vocab = args[++i]; break;
                case "--heads" when i + 1 < args.Length: heads = int.Parse(args[++i], CultureInfo.InvariantCulture); break;
                default: texts.Add(args[i]); break;
            }
        }

        bool huggingFace = ModelLoader.IsHuggingFace(model);
        vocab ??= Path.Combine(Directory.Exists(model) ? model : Path.GetDirectoryName(Path.GetFullPath(model))!, "vocab.txt");
        if (!(File.Exists(model) || Directory.Exists(model)) || !File.Exists(vocab) || texts.Count == 0)
        {
            throw new ArgumentException($"Need an existing model ('{model}'), vocabulary ('{vocab}') and at least one text.\n{Usage}");
        }

        var weights = ConsoleProgress.Run($"loading {Path.GetFileName(Path.TrimEndingDirectorySeparator(model))}", _ =>
        {
            if (huggingFace)
            {
                using var checkpoint = HuggingFaceCheckpoint.Open(model);
                return HuggingFaceModels.LoadBert(checkpoint);
            }

            using var stream = File.OpenRead(model);
            return OnnxBert.Load(stream, heads, Path.GetFileName(model));
        });

        using var vocabulary = File.OpenRead(vocab);
        using var encoder = BertModel.CreateDense(weights, BertModel.CreateUncasedTokenizer(vocabulary));
        var embeddings = encoder.Embed(texts);
        for (int i = 0; i < texts.Count; i++)
        {
            Console.WriteLine(FormattableString.Invariant($"[{i}] {texts[i]}\n    {embeddings[i].Length} dims: {embeddings[i][0]:F4}, {embeddings[i][1]:F4}, {embeddings[i][2]:F4}, …"));
        }

        for (int i = 0; i < texts.Count; i++)
        {
            for (int j = i + 1; j < texts.Count; j++)
            {
                double dot = 0;
                for (int d = 0; d < embeddings[i].Length; d++)
                {
                    dot += embeddings[i][d] * (double)embeddings[j][d];
                }

                Console.WriteLine(FormattableString.Invariant($"cosine [{i}]·[{j}] = {dot:F4}"));
            }
        }

        return 0;
    }
}
