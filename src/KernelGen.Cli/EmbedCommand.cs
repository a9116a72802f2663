using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using KernelGen.Formats.Onnx;
using KernelGen.Models;

namespace KernelGen.Cli;

/// <summary><c>kernelgen embed MODEL.onnx [--vocab vocab.txt] [--heads 12] TEXT...</c>: sentence embeddings and their cosine similarities.</summary>
internal static class EmbedCommand
{
    private const string Usage = "usage: kernelgen embed MODEL.onnx [--vocab vocab.txt] [--heads 12] TEXT [TEXT...]\n" +
        "A BERT-family sentence encoder exported to ONNX by PyTorch (e.g. all-MiniLM-L6-v2); vocab.txt defaults to the file beside the model.";

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

        vocab ??= Path.Combine(Path.GetDirectoryName(Path.GetFullPath(model))!, "vocab.txt");
        if (!File.Exists(model) || !File.Exists(vocab) || texts.Count == 0)
        {
            throw new ArgumentException($"Need an existing model ('{model}'), vocabulary ('{vocab}') and at least one text.\n{Usage}");
        }

        BertWeights weights;
        using (var stream = File.OpenRead(model))
        {
            weights = OnnxBert.Load(stream, heads, Path.GetFileName(model));
        }

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
