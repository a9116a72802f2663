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
/// can be read before spending GPU time.
/// </summary>
internal static class PtxDump
{
    public static int Run(string scheme, string directory) => SchemeRegistry.Visit(scheme, new Visitor(directory));

    private sealed class Visitor : SchemeRegistry.IVisitor<int>
    {
        private readonly string directory;

        public Visitor(string directory) => this.directory = directory;

        public int Visit<TScheme>()
            where TScheme : struct, IQuantScheme
        {
            Directory.CreateDirectory(directory);
            using var context = Context.Create(builder => builder.Cuda());
            using var backend = new PTXBackend(context, CudaArchitecture.SM_80, CudaInstructionSet.ISA_80, null!);
            foreach (var name in new[] { "GemvWarpKernel", "GemvSharedKernel", "GemmKernel", "DequantizeKernel" })
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
            var gemv = typeof(KernelGen.Backends.TensorCoreGemv);
            foreach (var (type, name, variant) in new[] { (gemv, "GemvKernel", "B4"), (gemv, "GemvKernel", "B4Upper"), (typeof(KernelGen.Backends.TensorCoreGemm), "GemmKernel", (string?)null) })
            {
                // The GEMV's 4-bit variants (groups spanning slabs, as g128) for M ≤ 8 and 9 ≤ M ≤ 16.
                var generic = type.GetMethod(name, BindingFlags.NonPublic | BindingFlags.Static)!;
                var tc = variant is null
                    ? generic.MakeGenericMethod(ptxMma)
                    : generic.MakeGenericMethod(ptxMma, (Type)type.GetMethod("VariantType", BindingFlags.NonPublic | BindingFlags.Static)!.Invoke(null, [4, 0, variant == "B4Upper"])!);
                var tcCompiled = (PTXCompiledKernel)backend.Compile(EntryPointDescription.FromExplicitlyGroupedKernel(tc), KernelSpecialization.Empty);
                var tcPath = Path.Combine(directory, $"{type.Name}.{name}{(variant is null ? string.Empty : "." + variant)}.ptx");
                File.WriteAllText(tcPath, KernelGen.Backends.PtxPeephole.Enabled ? KernelGen.Backends.PtxPeephole.ForwardLocalStores(tcCompiled.PTXAssembly, out _) : tcCompiled.PTXAssembly);
                Console.WriteLine($"{tcPath}: {tcCompiled.PTXAssembly.Split('\n').Length} lines");
            }

            return 0;
        }
    }
}
