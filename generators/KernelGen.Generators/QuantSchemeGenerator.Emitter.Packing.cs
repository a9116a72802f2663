using System.Collections.Generic;
using KernelGen.Generators.Helpers;
using KernelGen.Generators.Models;

namespace KernelGen.Generators;

public sealed partial class QuantSchemeGenerator
{
    internal static partial class Emitter
    {
        /// <summary>
        /// The expression (of type uint) that extracts code j from words <c>{prefix}0…{prefix}{b−1}</c>: a shift and a
        /// mask, or for a code that straddles two words, the low part of one word joined to the high part of the next.
        /// </summary>
        internal static string Extract(int j, int bits, string prefix)
        {
            int start = j * bits;
            int word = start / 32;
            int shift = start % 32;
            string mask = Hex((1u << bits) - 1u);
            string current = prefix + I(word);
            if (shift + bits <= 32)
            {
                string shifted = shift == 0 ? current : $"({current} >> {I(shift)})";
                return shift + bits == 32 ? shifted : $"({shifted} & {mask})";
            }

            string next = prefix + I(word + 1);
            return $"((({current} >> {I(shift)}) | ({next} << {I(32 - shift)})) & {mask})";
        }

        /// <summary>The terms OR-ed into word <paramref name="word"/> of a packed chunk, from masked codes c0…c31.</summary>
        internal static List<string> PackTerms(int word, int bits)
        {
            var terms = new List<string>();
            int wordStart = word * 32;
            for (int j = 0; j < ChunkSize; j++)
            {
                int start = j * bits;
                int end = start + bits;
                if (end <= wordStart || start >= wordStart + 32)
                {
                    continue;
                }

                if (start >= wordStart)
                {
                    int shift = start - wordStart;
                    terms.Add(shift == 0 ? "c" + I(j) : $"(c{I(j)} << {I(shift)})");
                }
                else
                {
                    // The high bits of a code that began in the previous word.
                    terms.Add($"(c{I(j)} >> {I(wordStart - start)})");
                }
            }

            return terms;
        }

        private static void WritePacking(SourceWriter w, SchemeModel m)
        {
            int b = m.Bits;
            w.Line("#region Packing: straight-line code for exactly " + I(b) + "-bit codes");
            w.Line();
            w.Line("/// <summary>Packs 32 codes (each ≤ <see cref=\"MaxCode\"/>; higher bits are dropped) into " + I(b) + " words.</summary>");
            w.OpenBlock("public static void PackChunk(global::System.ReadOnlySpan<byte> codes, global::System.Span<uint> words)");
            w.Line("_ = codes[ChunkSize - 1];");
            w.Line("_ = words[WordsPerChunk - 1];");
            for (int j = 0; j < ChunkSize; j++)
            {
                w.Line($"uint c{I(j)} = codes[{I(j)}] & {Hex(Mask(m))};");
            }

            for (int word = 0; word < b; word++)
            {
                w.Line($"words[{I(word)}] = {string.Join(" | ", PackTerms(word, b))};");
            }

            w.CloseBlock();
            w.Line();
            w.Line("/// <summary>Unpacks the " + I(b) + " words of one chunk into its 32 codes.</summary>");
            w.OpenBlock("public static void UnpackChunk(global::System.ReadOnlySpan<uint> words, global::System.Span<byte> codes)");
            w.Line("_ = codes[ChunkSize - 1];");
            WriteWordLoads(w, b, "words", string.Empty);
            for (int j = 0; j < ChunkSize; j++)
            {
                w.Line($"codes[{I(j)}] = (byte){Extract(j, b, "w")};");
            }

            w.CloseBlock();
            w.Line();
            w.Line("#endregion");
        }

        /// <summary><c>uint w0 = view[base]; …</c> for the chunk's words.</summary>
        private static void WriteWordLoads(SourceWriter w, int bits, string view, string baseIndex)
        {
            for (int i = 0; i < bits; i++)
            {
                string index = baseIndex.Length == 0 ? I(i) : i == 0 ? baseIndex : $"{baseIndex} + {I(i)}";
                w.Line($"uint w{I(i)} = {view}[{index}];");
            }
        }

        private static void WriteReference(SourceWriter w, SchemeModel m)
        {
            int maxCode = (int)Mask(m);
            w.Line("#region Reference CPU quantize and dequantize (the specification every kernel is tested against)");
            w.Line();
            w.Line("/// <summary>");
            w.Line("/// Round-to-nearest quantization of row-major <paramref name=\"weights\"/> into the packed layout described on");
            w.Line("/// the type. Callers (<see cref=\"global::KernelGen.Quantization.QuantizedMatrix{TScheme}\"/>) validate shapes and values.");
            w.Line("/// </summary>");
            w.OpenBlock("public static void QuantizeInto(global::System.ReadOnlySpan<float> weights, global::KernelGen.Quantization.QuantDims dims, global::System.Span<uint> packed, global::System.Span<ushort> scales, global::System.Span<uint> zeros)");
            w.Line("global::System.Span<byte> codes = stackalloc byte[ChunkSize];");
            if (!m.Symmetric)
            {
                w.Line("// Zero codes of every (row, group), row-major, packed as one bit stream at the end.");
                w.Line("byte[] zeroCodes = new byte[dims.ZeroWords / WordsPerChunk * ChunkSize];");
            }

            w.OpenBlock("for (int row = 0; row < dims.Rows; row++)");
            w.OpenBlock("for (int g = 0; g < dims.GroupsPerRow; g++)");
            w.Line("var group = weights.Slice(row * dims.Cols + g * dims.GroupSize, dims.GroupSize);");
            if (m.Symmetric)
            {
                w.Line("double absMax = 0;");
                w.Line("foreach (float v in group) absMax = global::System.Math.Max(absMax, global::System.Math.Abs((double)v));");
                w.Line($"ushort scaleBits = global::KernelGen.Quantization.Fp16.RoundUp(absMax / {I(SymmetricMax(m))}, row, g);");
            }
            else
            {
                w.Line("double lo = 0, hi = 0;");
                w.Line("foreach (float v in group) { lo = global::System.Math.Min(lo, v); hi = global::System.Math.Max(hi, v); }");
                w.Line($"ushort scaleBits = global::KernelGen.Quantization.Fp16.RoundUp((hi - lo) / {I(maxCode)}, row, g);");
            }

            w.Line("double scale = global::KernelGen.Quantization.Fp16.ToDouble(scaleBits);");
            w.Line("double inverse = scale == 0 ? 0 : 1.0 / scale;");
            w.Line("scales[(row * dims.GroupsPerRow) + g] = scaleBits;");
            if (m.Symmetric)
            {
                w.Line($"const int zero = ZeroPoint;");
                w.Line($"const int qMin = ZeroPoint - {I(SymmetricMax(m))}, qMax = ZeroPoint + {I(SymmetricMax(m))};");
            }
            else
            {
                w.Line($"int zero = (int)global::System.Math.Clamp(global::System.Math.Round(-lo * inverse, global::System.MidpointRounding.AwayFromZero), 0, MaxCode);");
                w.Line("zeroCodes[(row * dims.GroupsPerRow) + g] = (byte)zero;");
                w.Line("const int qMin = 0, qMax = MaxCode;");
            }

            w.OpenBlock("for (int c = 0; c < dims.ChunksPerGroup; c++)");
            w.OpenBlock("for (int j = 0; j < ChunkSize; j++)");
            w.Line("double q = global::System.Math.Round(group[c * ChunkSize + j] * inverse, global::System.MidpointRounding.AwayFromZero) + zero;");
            w.Line("codes[j] = (byte)global::System.Math.Clamp(q, qMin, qMax);");
            w.CloseBlock();
            w.Line("PackChunk(codes, packed.Slice((row * dims.ChunksPerRow + g * dims.ChunksPerGroup + c) * WordsPerChunk, WordsPerChunk));");
            w.CloseBlock();
            w.CloseBlock();
            w.CloseBlock();
            if (!m.Symmetric)
            {
                w.Line();
                w.OpenBlock("for (int block = 0; block < zeroCodes.Length / ChunkSize; block++)");
                w.Line("PackChunk(global::System.MemoryExtensions.AsSpan(zeroCodes, block * ChunkSize, ChunkSize), zeros.Slice(block * WordsPerChunk, WordsPerChunk));");
                w.CloseBlock();
            }

            w.CloseBlock();
            w.Line();
            w.Line("/// <summary>Expands packed weights back to row-major floats: w' = scale · (code − zero).</summary>");
            w.OpenBlock("public static void DequantizeInto(global::System.ReadOnlySpan<uint> packed, global::System.ReadOnlySpan<ushort> scales, global::System.ReadOnlySpan<uint> zeros, global::KernelGen.Quantization.QuantDims dims, global::System.Span<float> output)");
            w.Line("global::System.Span<byte> codes = stackalloc byte[ChunkSize];");
            if (!m.Symmetric)
            {
                w.Line("global::System.Span<byte> zeroCodes = stackalloc byte[ChunkSize];");
            }

            w.OpenBlock("for (int row = 0; row < dims.Rows; row++)");
            w.OpenBlock("for (int g = 0; g < dims.GroupsPerRow; g++)");
            w.Line("float scale = global::KernelGen.Quantization.Fp16.ToFloat(scales[(row * dims.GroupsPerRow) + g]);");
            if (m.Symmetric)
            {
                w.Line("const int zero = ZeroPoint;");
            }
            else
            {
                w.Line("int index = (row * dims.GroupsPerRow) + g;");
                w.Line("UnpackChunk(zeros.Slice((index >> 5) * WordsPerChunk, WordsPerChunk), zeroCodes);");
                w.Line("int zero = zeroCodes[index & 31];");
            }

            w.OpenBlock("for (int c = 0; c < dims.ChunksPerGroup; c++)");
            w.Line("int chunk = g * dims.ChunksPerGroup + c;");
            w.Line("UnpackChunk(packed.Slice((row * dims.ChunksPerRow + chunk) * WordsPerChunk, WordsPerChunk), codes);");
            w.Line("var destination = output.Slice(row * dims.Cols + chunk * ChunkSize, ChunkSize);");
            w.OpenBlock("for (int j = 0; j < ChunkSize; j++)");
            w.Line("destination[j] = scale * (codes[j] - zero);");
            w.CloseBlock();
            w.CloseBlock();
            w.CloseBlock();
            w.CloseBlock();
            w.CloseBlock();
            w.Line();
            w.Line("#endregion");
        }
    }
}
