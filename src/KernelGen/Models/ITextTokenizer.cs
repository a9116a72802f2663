using System;
using System.Collections.Generic;

namespace KernelGen.Models;

/// <summary>What text generation needs from a decoder's tokenizer: ids for a prompt, and text for each new token as it
/// streams. Implemented by <see cref="Formats.Llama2C.Llama2CTokenizer"/> (llama2.c files and GGUF vocabularies) and
/// <see cref="Formats.SentencePiece.SentencePieceTextTokenizer"/> (a SentencePiece tokenizer.model through
/// Microsoft.ML.Tokenizers).</summary>
public interface ITextTokenizer
{
    /// <summary>Vocabulary size.</summary>
    int VocabSize { get; }

    /// <summary>Beginning-of-sequence id.</summary>
    int BosId { get; }

    /// <summary>End-of-sequence id.</summary>
    int EosId { get; }

    /// <summary>Token ids of <paramref name="text"/>, with BOS and EOS as asked.</summary>
    List<int> Encode(string text, bool bos, bool eos);

    /// <summary>The UTF-8 bytes <paramref name="token"/> adds after <paramref name="previous"/> (a byte-fallback token
    /// gives one byte, which may be part of a character).</summary>
    ReadOnlySpan<byte> DecodeBytes(int previous, int token);

    /// <summary>The text of a token sequence (control tokens give none).</summary>
    string Decode(IReadOnlyList<int> tokens);
}
