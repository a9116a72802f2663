using System;
using System.Linq;
using KernelGen.Cli.Bench;

namespace KernelGen.Cli;

/// <summary>The <c>kernelgen</c> command line.</summary>
public static class Program
{
    private const string Usage = """
        usage: kernelgen <command> [options]
        commands:
          bench   check and time the generated kernels on a device (see 'kernelgen bench --help')
          run     MODEL --prompt TEXT: generate text with a Llama-family model: llama2.c .bin, GGUF or Hugging Face directory
          inspect FILE: tensors (type, shape, bytes) and metadata of a GGUF, llama2.c, safetensors file or HF directory
          quantize MODEL --type q8_0|q4_0 [--method rtn|rtn-clip|gptq --calib FILE] -o OUT.gguf: a GGUF llama.cpp reads
          eval    BASE --compare Q1 [Q2 ...] --text FILE [--tasks FILE] --report DIR: where compression hurts, decoder or encoder (see 'kernelgen eval')
          embed   MODEL TEXT...: sentence embeddings with a BERT-family encoder (ONNX or Hugging Face directory)
          cache   [clear]: where compiled CUDA kernels are kept between runs (KERNELGEN_KERNEL_CACHE), and emptying it
          ptx     SCHEME DIR [int8]: write a built-in scheme's kernels as PTX as an H100 loads them (sm_80; the wgmma GEMM sm_90a), no GPU needed; int8: the int8-activation GEMV's alone
        """;

    public static int Main(string[] args)
    {
        if (args.Length == 0 || args[0] is "-h" or "--help")
        {
            Console.WriteLine(Usage);
            return args.Length == 0 ? 2 : 0;
        }

        try
        {
            switch (args[0])
            {
                case "bench" when args.Skip(1).Any(a => a is "-h" or "--help"):
                    Console.WriteLine(BenchOptions.Usage);
                    return 0;
                case "bench":
                    var bench = BenchOptions.Parse(args.Skip(1).ToArray());
                    return bench.DecodeLayers > 0 ? DecodeBench.Run(bench) : BenchRunner.Run(bench);
                case "embed":
                    return EmbedCommand.Run(args.Skip(1).ToArray());
                case "quantize":
                    return QuantizeCommand.Run(args.Skip(1).ToArray());
                case "eval":
                    return EvalCommand.Run(args.Skip(1).ToArray());
                case "inspect":
                    return InspectCommand.Run(args.Skip(1).ToArray());
                case "run":
                    return RunCommand.Run(args.Skip(1).ToArray());
                case "cache":
                    return CacheCommand.Run(args.Skip(1).ToArray());
                case "ptx" when args.Length == 3:
                    return Ptx.PtxDump.Run(args[1], args[2]);
                case "ptx" when args.Length == 4 && args[3] == "int8":
                    return Ptx.PtxDump.Run(args[1], args[2], int8Only: true);
                case "ptx":
                    Console.Error.WriteLine("usage: kernelgen ptx SCHEME DIR [int8]");
                    return 2;
                default:
                    Console.Error.WriteLine($"Unknown command '{args[0]}'.\n{Usage}");
                    return 2;
            }
        }
        catch (ArgumentException e)
        {
            Console.Error.WriteLine($"error: {e.Message}");
            return 2;
        }
        catch (KernelGen.Formats.ModelFormatException e)
        {
            Console.Error.WriteLine($"error: {e.Message}");
            return 1;
        }
        catch (Exception e) when (e is InvalidOperationException or NotSupportedException)
        {
            // A device that is missing or cannot run the kernels: the message says what and what to use instead.
            Console.Error.WriteLine($"error: {e.Message}");
            return 1;
        }
    }
}
