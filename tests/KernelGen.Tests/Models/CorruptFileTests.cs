using System;
using System.IO;
using KernelGen.Formats;
using KernelGen.Formats.Llama2C;
using Xunit;

namespace KernelGen.Tests.Models;

/// <summary>Untrusted input: truncated, inconsistent and bit-flipped files give a typed error naming the field and
/// byte offset, never another exception, an unbounded allocation or a read out of bounds.</summary>
public sealed class CorruptFileTests : IDisposable
{
    private readonly TestDirectory scratch = new("kernelgen-corrupt-");

    private string directory => scratch.FullPath;

    public void Dispose() => scratch.Dispose();

    [ModelFact]
    public void TruncatedCheckpoint_NamesWhatIsMissing()
    {
        var bytes = File.ReadAllBytes(ModelFiles.Checkpoint);
        var e = Assert.Throws<ModelFormatException>(() => Llama2CCheckpoint.Load(Write(bytes.AsSpan(0, 500_000).ToArray())));
        Assert.Equal("weights", e.Field);
        Assert.Contains("needs exactly 1056540 bytes but the file has 500000: truncated", e.Message);

        var header = Assert.Throws<ModelFormatException>(() => Llama2CCheckpoint.Load(Write(bytes.AsSpan(0, 20).ToArray())));
        Assert.Equal("header", header.Field);
    }

    [ModelFact]
    public void InconsistentHeader_NamesTheField()
    {
        var bytes = File.ReadAllBytes(ModelFiles.Checkpoint);
        var heads = (byte[])bytes.Clone();
        BitConverter.GetBytes(7).CopyTo(heads, 12);
        var e = Assert.Throws<ModelFormatException>(() => Llama2CCheckpoint.Load(Write(heads)));
        Assert.Equal(("n_heads", 12L), (e.Field, e.Offset));

        var vocab = (byte[])bytes.Clone();
        BitConverter.GetBytes(int.MaxValue).CopyTo(vocab, 20);
        e = Assert.Throws<ModelFormatException>(() => Llama2CCheckpoint.Load(Write(vocab)));
        Assert.Equal(("vocab_size", 20L), (e.Field, e.Offset));

        var nan = (byte[])bytes.Clone();
        BitConverter.GetBytes(float.NaN).CopyTo(nan, 132380 + 8);
        e = Assert.Throws<ModelFormatException>(() => Llama2CCheckpoint.Load(Write(nan)));
        Assert.Equal(("wq", 132388L), (e.Field, e.Offset));
    }

    [ModelFact]
    public void BitFlippedFiles_LoadOrFailWithAFormatError()
    {
        var random = TestData.CreateRandom(nameof(BitFlippedFiles_LoadOrFailWithAFormatError));
        var model = File.ReadAllBytes(ModelFiles.Checkpoint);
        var tokenizer = File.ReadAllBytes(ModelFiles.Tokenizer);
        for (int trial = 0; trial < 60; trial++)
        {
            // Half the flips land in the headers, where they matter most.
            var m = (byte[])model.Clone();
            int at = trial % 2 == 0 ? random.Next(28) : random.Next(m.Length);
            m[at] ^= (byte)(1 << random.Next(8));
            try
            {
                Llama2CCheckpoint.Load(Write(m));
            }
            catch (ModelFormatException)
            {
            }

            var t = (byte[])tokenizer.Clone();
            int tat = random.Next(t.Length);
            t[tat] ^= (byte)(1 << random.Next(8));
            try
            {
                Llama2CTokenizer.Load(Write(t), 512);
            }
            catch (ModelFormatException)
            {
            }
        }
    }

    [ModelFact]
    public void TruncatedTokenizer_NamesTheToken()
    {
        var bytes = File.ReadAllBytes(ModelFiles.Tokenizer);
        var e = Assert.Throws<ModelFormatException>(() => Llama2CTokenizer.Load(Write(bytes.AsSpan(0, 3000).ToArray()), 512));
        Assert.Matches("(score|length) of token [0-9]+", e.Field);
        Assert.Contains("truncated", e.Message);
    }

    private string Write(byte[] bytes)
    {
        var path = Path.Combine(directory, Guid.NewGuid().ToString("N") + ".bin");
        File.WriteAllBytes(path, bytes);
        return path;
    }
}
