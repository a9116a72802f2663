using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using KernelGen.Formats.Gguf;

namespace KernelGen.Cli;

/// <summary><c>kernelgen quantize MODEL.gguf --type q8_0|q4_0 | --scheme S [--method rtn|rtn-clip|gptq|gptq-act|awq --calib FILE] -o OUT.gguf</c>:
/// a GGUF in ggml's Q8_0/Q4_0 (llama.cpp reads it) or in a generated scheme's own layout (KernelGen reads it).</summary>
internal static class QuantizeCommand
{
    private const string Usage = """
        usage: kernelgen quantize MODEL.gguf (--type q8_0|q4_0 | --scheme SCHEME) [--method rtn|rtn-clip|gptq|gptq-act|awq] [--calib FILE] -o OUT.gguf
        Quantizes the block projections of a Llama GGUF.
          --type    into ggml's Q8_0 or Q4_0: llama.cpp runs the result
          --scheme  into a generated scheme (q4g128, q4g128s, q8pcs, q3g128, q2g64, q4g32, q3g32), stored in its own layout
                    (GGUF with I32 code tensors, see GgufSchemeTensors): kernelgen run and eval load it, llama.cpp cannot
        Methods:
          rtn       round-to-nearest (default)
          rtn-clip  round-to-nearest with a per-group clipping search
          gptq      GPTQ (Frantar et al.) on --calib text, block by block; keep the calibration text apart from evaluation text
          gptq-act  GPTQ with activation order (static groups, so the file layout is unchanged)
          awq       AWQ (Lin et al.) on --calib text with its clip search; the scales are folded into the RMSNorm gains and
                    the v/up rows, which the file then holds as F32
        """;

    public static int Run(string[] args)
    {
        string? input = null, output = null, type = null, scheme = null, calib = null;
        string method = "rtn";
        for (int i = 0; i < args.Length; i++)
        {
            string Value() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{args[i]} needs a value.\n{Usage}");
            switch (args[i])
            {
                case "--type": type = Value(); break;
                case "--scheme": scheme = Value(); break;
                case "-o": output = Value(); break;
                case "--method": method = Value().ToLowerInvariant(); break;
                case "--calib": calib = Value(); break;
                default:
                    if (input is null && !args[i].StartsWith('-'))
                    {
                        input = args[i];
                        break;
                    }

                    throw new ArgumentException($"Unexpected argument '{args[i]}'.\n{Usage}");
            }
        }

        if (input is null || output is null || (type is null) == (scheme is null))
        {
            throw new ArgumentException(type is not null && scheme is not null ? $"Pass --type or --scheme, not both.\n{Usage}" : Usage);
        }

        var target = type?.ToLowerInvariant() switch
        {
            null => GgmlType.F32, // unused: --scheme
            "q8_0" => GgmlType.Q8_0,
            "q4_0" => GgmlType.Q4_0,
            _ => throw new ArgumentException($"--type {type} is not supported: use q8_0 or q4_0, or --scheme for a generated scheme."),
        };
        if (scheme is not null)
        {
            scheme = SchemeRegistry.Check(scheme);
        }

        if (!File.Exists(input))
        {
            throw new ArgumentException($"'{input}' does not exist.");
        }

        var kind = method switch
        {
            "rtn" => GgufQuantizer.QuantizeMethod.Rtn,
            "rtn-clip" => GgufQuantizer.QuantizeMethod.RtnClip,
            "gptq" => GgufQuantizer.QuantizeMethod.Gptq,
            "gptq-act" => GgufQuantizer.QuantizeMethod.GptqActOrder,
            "awq" => GgufQuantizer.QuantizeMethod.Awq,
            _ => throw new ArgumentException($"--method {method} is not rtn, rtn-clip, gptq, gptq-act or awq."),
        };
        if (kind is GgufQuantizer.QuantizeMethod.Gptq or GgufQuantizer.QuantizeMethod.GptqActOrder or GgufQuantizer.QuantizeMethod.Awq && (calib is null || !File.Exists(calib)))
        {
            throw new ArgumentException(calib is null ? $"--method {method} needs --calib FILE (text the model should be good at, apart from any evaluation text)." : $"--calib '{calib}' does not exist.");
        }

        var file = GgufFile.Load(input);
        IReadOnlyList<IReadOnlyList<int>>? calibration = null;
        if (calib is not null)
        {
            var tokenizer = GgufLlama.LoadTokenizer(file);
            var tokens = tokenizer.Encode(File.ReadAllText(calib), bos: false, eos: false);
            int length = Math.Min(256, file.Get("llama.context_length", 2048) - 1);
            calibration = KernelGen.Evaluation.DecoderEvaluation.Chunk(tokens, length, 32)
                .Select(c => (IReadOnlyList<int>)c.Prepend(tokenizer.BosId).ToArray()).ToList();
            if (calibration.Count == 0)
            {
                throw new ArgumentException($"--calib '{calib}' is {tokens.Count} tokens, shorter than one {length}-token sequence.");
            }
        }

        string into = scheme ?? target.ToString();
        var quantized = ConsoleProgress.Run($"{method} → {into}", _ => scheme is null
            ? GgufQuantizer.Quantize(file, output, target, kind, calibration)
            : SchemeRegistry.Visit(scheme, new SchemeQuantizer(file, output, kind, calibration)));
        Console.WriteLine($"{Path.GetFileName(output)}: {quantized.Count} projections quantized to {into} by {method}, {new FileInfo(output).Length:N0} bytes (from {new FileInfo(input).Length:N0})");
        return 0;
    }

    private sealed class SchemeQuantizer : SchemeRegistry.IVisitor<List<string>>
    {
        private readonly GgufFile file;
        private readonly string output;
        private readonly GgufQuantizer.QuantizeMethod method;
        private readonly IReadOnlyList<IReadOnlyList<int>>? calibration;

        public SchemeQuantizer(GgufFile file, string output, GgufQuantizer.QuantizeMethod method, IReadOnlyList<IReadOnlyList<int>>? calibration)
        {
            this.file = file;
            this.output = output;
            this.method = method;
            this.calibration = calibration;
        }

        public List<string> Visit<TScheme>()
            where TScheme : struct, IQuantScheme
            => GgufQuantizer.Quantize<TScheme>(file, output, method, calibration);
    }
}
