using System;
using System.IO;
using System.Reflection;
using ILGPU;
using ILGPU.Backends;
using ILGPU.Backends.EntryPoints;
using ILGPU.Backends.PTX;
using ILGPU.Runtime;
using ILGPU.Runtime.Cuda;

namespace KernelGen.Cli.Ptx;

/// <summary>
/// <c>kernelgen ptx SCHEME DIR</c>: compiles a scheme's kernels to PTX on any machine (no GPU needed) for the target
/// ILGPU picks on an H100 with a CUDA 13 driver (sm_80 code, ISA 8.8), so their loads, conversions and register use
/// can be read before spending GPU time. <c>kernelgen ptx SCHEME DIR int8</c> writes the int8-activation GEMV's kernels
/// alone (under half a minute where the whole set takes ~6 minutes).
/// </summary>
internal static class PtxDump
{
    public static int Run(string scheme, string directory, bool int8Only = false) => SchemeRegistry.Visit(scheme, new Visitor(directory, int8Only));

    private sealed class Visitor : SchemeRegistry.IVisitor<int>
    {
        private readonly string directory;
        private readonly bool int8Only;

        public Visitor(string directory, bool int8Only)
        {
            this.directory = directory;
            this.int8Only = int8Only;
        }

        public int Visit<TScheme>()
            where TScheme : struct, IQuantScheme
        {
            Directory.CreateDirectory(directory);
            using var context = Context.Create(builder => builder.Cuda());
            using var backend = new PTXBackend(context, CudaArchitecture.SM_80, CudaInstructionSet.ISA_80, null!);
            foreach (var name in int8Only ? Array.Empty<string>() : new[] { "GemvWarpKernel", "GemvSharedKernel", "GemmKernel", "DequantizeKernel" })
            {
                var method = typeof(TScheme).GetMethod(name, BindingFlags.Public | BindingFlags.Static)
                    ?? throw new InvalidOperationException($"{typeof(TScheme).Name} has no {name}.");
                var entry = name == "DequantizeKernel"
                    ? EntryPointDescription.FromImplicitlyGroupedKernel(method)
                    : EntryPointDescription.FromExplicitlyGroupedKernel(method);
                var compiled = (PTXCompiledKernel)backend.Compile(entry, KernelSpecialization.Empty);
                var path = Path.Combine(directory, $"{TScheme.Info.Name}.{name}.ptx");
                File.WriteAllText(path, compiled.PTXAssembly);
                Console.WriteLine($"{path}: {compiled.PTXAssembly.Split('\n').Length} lines");
            }

            // The scheme-independent tensor-core GEMV and GEMM, compiled the same way and patched as they are loaded.
            var ptxMma = typeof(KernelGen.Backends.TensorCoreGemm).Assembly.GetType("KernelGen.Backends.TensorCoreMma+PtxMma")!;
            // The GEMV's variants, named B{bits}G{k-blocks per group inside a slab, 0: groups span slabs}[Single|Upper]:
            // 4-bit g128 for M = 1 (x through shared memory), 2 ≤ M ≤ 8 and 9 ≤ M ≤ 16, 2-bit g64 (q2g64) for M = 1 and
            // M ≤ 8, 8-bit per-channel (q8pcs) for M = 1 and 9 ≤ M ≤ 16, 3-bit g128 (q3g128) for all three; at 9 ≤ M ≤ 16
            // 3- and 4-bit read x as B fragments (what large 2-, 3- and 4-bit weights run), 8-bit in f32.
            var gemv = typeof(KernelGen.Backends.TensorCoreGemv);
            var variantType = gemv.GetMethod("VariantType", BindingFlags.NonPublic | BindingFlags.Static)!;
            // The GEMM's, named B{bits}: mma.sync (GemmKernel, sm_80) and wgmma (WarpGroupKernel, retargeted to sm_90a as
            // it is loaded on an H100); 3-bit g128 (q3g128) in both forms.
            // Suffix Wide: the 16-warp groups of weights with no more row blocks than SMs (4096 rows on an H100), whose
            // weights stay in registers; dumped with x not converted first, as 4096² runs it (from 16 MiB of codes, e.g.
            // 4096×14336, M > 8 converts it first).
            var kernels = new (Type Type, string Name, int Bits, int GroupBlocks, int Rows, int Warps)[]
            {
                (gemv, "GemvKernel", 4, 0, 1, 8), (gemv, "GemvKernel", 4, 0, 8, 8), (gemv, "GemvKernel", 4, 0, 16, 8), (gemv, "GemvKernel", 2, 4, 1, 8), (gemv, "GemvKernel", 2, 4, 8, 8), (gemv, "GemvKernel", 8, 0, 1, 8), (gemv, "GemvKernel", 8, 0, 16, 8),
                (gemv, "GemvKernel", 3, 8, 1, 8), (gemv, "GemvKernel", 3, 8, 8, 8), (gemv, "GemvKernel", 3, 8, 16, 8),
                (gemv, "GemvKernel", 4, 0, 1, 16), (gemv, "GemvKernel", 4, 0, 16, 16), (gemv, "GemvKernel", 2, 4, 1, 16), (gemv, "GemvKernel", 8, 0, 1, 16),
                (typeof(KernelGen.Backends.TensorCoreGemm), "GemmKernel", 4, 0, 0, 0), (typeof(KernelGen.Backends.TensorCoreGemm), "GemmKernel", 8, 0, 0, 0),
                (typeof(KernelGen.Backends.TensorCoreGemm), "WarpGroupKernel", 4, 0, 0, 0), (typeof(KernelGen.Backends.TensorCoreGemm), "WarpGroupKernel", 8, 0, 0, 0),
                (typeof(KernelGen.Backends.TensorCoreGemm), "WarpGroupKernel", 2, 4, 0, 0),
                (typeof(KernelGen.Backends.TensorCoreGemm), "GemmKernel", 3, 0, 0, 0), (typeof(KernelGen.Backends.TensorCoreGemm), "WarpGroupKernel", 3, 8, 0, 0),
            };
            foreach (var (type, name, bits, groupBlocks, rows, warps) in int8Only ? [] : kernels)
            {
                bool upper = rows > 8, wide = warps > 8;
                var generic = type.GetMethod(name, BindingFlags.NonPublic | BindingFlags.Static)!;
                int stages = wide ? 0 : KernelGen.Backends.TensorCoreGemv.Stages >= 0 ? KernelGen.Backends.TensorCoreGemv.Stages : (int)gemv.GetMethod("StagesFor", BindingFlags.NonPublic | BindingFlags.Static)!.Invoke(null, [bits, upper, true])!;
                bool prepared = upper && bits <= 4 && !wide;
                var tc = type == gemv
                    ? generic.MakeGenericMethod(ptxMma, (Type)variantType.Invoke(null, [bits, groupBlocks, rows, stages, prepared, warps])!)
                    : name == "WarpGroupKernel" // the wgmma GEMM by code width and where groups end (0: at slab ends; 4: q2g64), mma.sync by width
                        ? generic.MakeGenericMethod(ptxMma, gemv.GetNestedType($"C{bits}", BindingFlags.NonPublic)!, gemv.GetNestedType($"C{groupBlocks}", BindingFlags.NonPublic)!)
                        : generic.MakeGenericMethod(ptxMma, gemv.GetNestedType($"C{bits}", BindingFlags.NonPublic)!);
                var tcCompiled = (PTXCompiledKernel)backend.Compile(EntryPointDescription.FromExplicitlyGroupedKernel(tc), KernelSpecialization.Empty);
                string suffix = type == gemv ? $".B{bits}G{groupBlocks}{(upper ? "Upper" : rows == 1 ? "Single" : string.Empty)}{(wide ? "Wide" : string.Empty)}" : name == "WarpGroupKernel" && groupBlocks != 0 ? $".B{bits}G{groupBlocks}" : $".B{bits}";
                var tcPath = Path.Combine(directory, $"{type.Name}.{name}{suffix}.ptx");
                int registers = type == gemv ? (int)gemv.GetMethod("RegistersFor", BindingFlags.NonPublic | BindingFlags.Static)!.Invoke(null, [bits, rows, prepared, stages, !wide, warps])! : name == "WarpGroupKernel" && KernelGen.Backends.TensorCoreGemm.MaxRegisters < 0 ? 128 : Math.Max(0, KernelGen.Backends.TensorCoreGemm.MaxRegisters);
                File.WriteAllText(tcPath, KernelGen.Backends.PtxPeephole.Enabled
                    ? KernelGen.Backends.PtxPeephole.Patch(tcCompiled.PTXAssembly, registers, warpGroup: name == "WarpGroupKernel")
                    : KernelGen.Backends.PtxPeephole.LimitRegisters(tcCompiled.PTXAssembly, registers));
                Console.WriteLine($"{tcPath}: {tcCompiled.PTXAssembly.Split('\n').Length} lines");
            }

            // The int8-activation GEMV: decode (GemvKernel) of asymmetric 4- and 3-bit codes in groups of 128 and 2-bit in
            // groups of 64, and batches of 9–16 rows (BatchKernel) of 4- and 3-bit codes (groups of two units shared by a
            // slab) and 2-bit codes (groups of one unit), 8 warps, and the same batches of 2–8 rows (files .M8); 8-bit per-channel
            // symmetric codes at 9–16 rows (ByteKernel); x's rounding for each.
            var int8 = typeof(KernelGen.Backends.Int8ActivationGemv);
            Type C(int value) => gemv.GetNestedType($"C{value}", BindingFlags.NonPublic)!;
            foreach (var (name, width, arguments, suffix) in new[]
            {
                ("GemvKernel", 4, new[] { ptxMma, C(0), C(8), C(0), C(1), C(1) }, ""),
                ("GemvKernel", 3, new[] { ptxMma, C(0), C(8), C(1), C(0), C(1) }, ""),
                ("GemvKernel", 2, new[] { ptxMma, C(0), C(8), C(0), C(0), C(0) }, ""),
                ("BatchKernel", 4, new[] { ptxMma, C(4), C(0), C(8), C(1), C(1), C(1) }, ""),
                ("BatchKernel", 3, new[] { ptxMma, C(3), C(0), C(8), C(1), C(1), C(1) }, ""),
                ("BatchKernel", 2, new[] { ptxMma, C(2), C(0), C(8), C(1), C(0), C(1) }, ""),
                ("BatchKernel", 4, new[] { ptxMma, C(4), C(0), C(8), C(0), C(1), C(0) }, ".M8"),
                ("BatchKernel", 3, new[] { ptxMma, C(3), C(0), C(8), C(0), C(1), C(1) }, ".M8"),
                ("BatchKernel", 2, new[] { ptxMma, C(2), C(0), C(8), C(0), C(0), C(1) }, ".M8"),
                ("ByteKernel", 8, new[] { ptxMma, C(1), C(8), C(1), C(1), C(1) }, ""),
                ("QuantizeKernel", 4, new[] { ptxMma }, ""),
                ("QuantizeBatchKernel", 4, new[] { ptxMma }, ""),
            })
            {
                var kernel = int8.GetMethod(name, BindingFlags.NonPublic | BindingFlags.Static)!.MakeGenericMethod(arguments);
                var compiledInt8 = (PTXCompiledKernel)backend.Compile(EntryPointDescription.FromExplicitlyGroupedKernel(kernel), KernelSpecialization.Empty);
                var int8Path = Path.Combine(directory, $"Int8ActivationGemv.{name}.B{width}{suffix}.ptx");
                File.WriteAllText(int8Path, KernelGen.Backends.PtxPeephole.Enabled ? KernelGen.Backends.PtxPeephole.Patch(compiledInt8.PTXAssembly, KernelGen.Backends.Int8ActivationGemv.MaxRegisters, warpGroup: false) : compiledInt8.PTXAssembly);
                Console.WriteLine($"{int8Path}: {compiledInt8.PTXAssembly.Split('\n').Length} lines");
            }

            // x's conversion to B fragments before the GEMM (and the small-batch GEMV at M > 8 on large weights).
            var prepare = typeof(KernelGen.Backends.TensorCoreGemm).GetMethod("PrepareKernel", BindingFlags.NonPublic | BindingFlags.Static)!.MakeGenericMethod(ptxMma);
            var prepareCompiled = (PTXCompiledKernel)backend.Compile(EntryPointDescription.FromExplicitlyGroupedKernel(prepare), KernelSpecialization.Empty);
            var preparePath = Path.Combine(directory, "TensorCoreGemm.PrepareKernel.ptx");
            File.WriteAllText(preparePath, KernelGen.Backends.PtxPeephole.Enabled ? KernelGen.Backends.PtxPeephole.Patch(prepareCompiled.PTXAssembly, 0, warpGroup: false) : prepareCompiled.PTXAssembly);
            Console.WriteLine($"{preparePath}: {prepareCompiled.PTXAssembly.Split('\n').Length} lines");
            return 0;
        }
    }
}
