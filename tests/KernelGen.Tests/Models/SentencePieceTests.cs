using System.IO;
using System.Linq;
using System.Text;
using KernelGen.Formats;
using KernelGen.Formats.Llama2C;
using KernelGen.Formats.SentencePiece;
using KernelGen.Models;
using Xunit;

namespace KernelGen.Tests.Models;

/// <summary>tok512.model through Microsoft.ML.Tokenizers against SentencePiece's own ids (the model README's) and
/// against the llama2.c tokenizer file of the same vocabulary.</summary>
public sealed class SentencePieceTests
{
    [ModelFact]
    public void Encode_MatchesSentencePiecesIds_AndDecodesBack()
    {
        var tokenizer = SentencePieceTextTokenizer.Load(ModelFiles.SentencePieceModel);
        Assert.Equal((512, 1, 2), (tokenizer.VocabSize, tokenizer.BosId, tokenizer.EosId));
        const string sentence = "Once upon a time, there was a little girl named Lily. She loved to play outside.";
        var ids = tokenizer.Encode(sentence, bos: true, eos: false);
        Assert.Equal(Stories260KTests.SentenceTokens, ids);
        Assert.Equal(sentence, tokenizer.Decode(ids));
    }

    [ModelFact]
    public void BothTokenizers_AgreeOnVariedText_IncludingByteFallback()
    {
        var sentencePiece = SentencePieceTextTokenizer.Load(ModelFiles.SentencePieceModel);
        var llama2c = Llama2CTokenizer.Load(ModelFiles.Tokenizer, 512);
        foreach (string text in MiniLmTests.Sentences.Append("a tab\tand a newline\n").Append(string.Empty))
        {
            var ids = sentencePiece.Encode(text, bos: true, eos: true);
            Assert.Equal(llama2c.Encode(text, bos: true, eos: true), ids);

            // Streaming bytes, token by token, reassemble the library's decode.
            var bytes = ids.Skip(1).SelectMany((t, i) => sentencePiece.DecodeBytes(ids[i], t).ToArray()).ToArray();
            Assert.Equal(sentencePiece.Decode(ids), Encoding.UTF8.GetString(bytes));
        }

        // Where they part: SentencePiece's normalizer (remove_extra_whitespaces, as the model was trained) collapses
        // runs of spaces and trims; run.c's encoder keeps every space.
        Assert.Equal(sentencePiece.Encode("two spaces", true, false), sentencePiece.Encode("  two   spaces ", true, false));
        Assert.NotEqual(llama2c.Encode("two spaces", true, false), llama2c.Encode("  two   spaces ", true, false));
    }

    /// <summary>Long text exercises the heap-based merge order (highest score first, leftmost on ties) against the
    /// library on thousands of merges.</summary>
    [ModelFact]
    public void LongText_EncodesIdentically()
    {
        var sentencePiece = SentencePieceTextTokenizer.Load(ModelFiles.SentencePieceModel);
        var llama2c = Llama2CTokenizer.Load(ModelFiles.Tokenizer, 512);
        var random = TestData.CreateRandom(nameof(LongText_EncodesIdentically));
        var words = string.Join(" ", MiniLmTests.Sentences).Split(' ');
        var text = string.Join(" ", Enumerable.Range(0, 3000).Select(_ => words[random.Next(words.Length)]));
        var ids = llama2c.Encode(text, bos: true, eos: false);
        Assert.True(ids.Count > 3000);
        Assert.Equal(sentencePiece.Encode(text, bos: true, eos: false), ids);
    }

    [ModelFact]
    public void Generation_WithTheSentencePieceModel_TellsTheSameStory()
    {
        var weights = Llama2CCheckpoint.Load(ModelFiles.Checkpoint);
        using var model = LlamaModel.CreateDense(weights);
        var expected = TextGenerator.Generate(model, Llama2CTokenizer.Load(ModelFiles.Tokenizer, 512), "Once upon a time", 60, new Sampler(512));
        using var again = LlamaModel.CreateDense(weights);
        var streamed = new StringBuilder();
        var tokenizer = SentencePieceTextTokenizer.Load(ModelFiles.SentencePieceModel);
        var actual = TextGenerator.Generate(again, tokenizer, "Once upon a time", 60, new Sampler(512), t => streamed.Append(t));
        Assert.Equal(expected, actual);
        Assert.StartsWith("Once upon a time, there was a little girl named Lily.", streamed.ToString());
    }

    [Fact]
    public void NotAModel_IsAFormatError()
    {
        string path = Path.GetTempFileName();
        try
        {
            File.WriteAllBytes(path, Encoding.ASCII.GetBytes("this is not a protobuf"));
            var e = Assert.Throws<ModelFormatException>(() => SentencePieceTextTokenizer.Load(path));
            Assert.Equal("ModelProto", e.Field);
        }
        finally
        {
            File.Delete(path);
        }
    }
}
