using System;
using System.IO;
using KernelGen.Formats.Gguf;

namespace KernelGen.Cli;

/// <summary><c>kernelgen quantize MODEL.gguf --type q8_0|q4_0 -o OUT.gguf</c>: round-to-nearest into a GGUF that llama.cpp's format describes.</summary>
internal static class QuantizeCommand
{
    private const string Usage = "usage: kernelgen quantize MODEL.gguf --type q8_0|q4_0 -o OUT.gguf   (round-to-nearest; GPTQ and AWQ are not implemented yet)";

    public static int Run(string[] args)
    {
        string? input = null, output = null, type = null;
        for (int i = 0; i < args.Length; i++)
        {
            string Value() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{args[i]} needs a value.\n{Usage}");
            switch (args[i])
            {
                case "--type": type = Value(); break;
                case "-o": output = Value(); break;
                default:
                    if (input is null && !args[i].StartsWith('-'))
                    {
                        input = args[i];
                        break;
                    }

                    throw new ArgumentException($"Unexpected argument '{args[i]}'.\n{Usage}");
            }
        }

        if (input is null || output is null || type is null)
        {
            throw new ArgumentException(Usage);
        }

        var target = type.ToLowerInvariant() switch
        {
            "q8_0" => GgmlType.Q8_0,
            "q4_0" => GgmlType.Q4_0,
            _ => throw new ArgumentException($"--type {type} is not supported: use q8_0 or q4_0."),
        };
        if (!File.Exists(input))
        {
            throw new ArgumentException($"'{input}' does not exist.");
        }

        var quantized = GgufQuantizer.Quantize(GgufFile.Load(input), output, target);
        Console.WriteLine($"{Path.GetFileName(output)}: {quantized.Count} projections quantized to {target}, {new FileInfo(output).Length:N0} bytes (from {new FileInfo(input).Length:N0})");
        return 0;
    }
}
