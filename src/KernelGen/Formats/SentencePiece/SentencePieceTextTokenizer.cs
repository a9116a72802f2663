using System;
using System.Collections.Generic;
using System.IO;
using System.Text;
using KernelGen.Models;
using Microsoft.ML.Tokenizers;

namespace KernelGen.Formats.SentencePiece;

/// <summary>
/// A SentencePiece model (<c>tokenizer.model</c>: Llama 2, Mistral, TinyLlama, llama2.c's tok512.model) through
/// Microsoft.ML.Tokenizers, which implements SentencePiece's BPE and Unigram encoders with its normalization rules.
/// Streaming decode reads pieces directly: '▁' is a space, <c>&lt;0xXX&gt;</c> byte-fallback pieces are one byte.
/// </summary>
public sealed class SentencePieceTextTokenizer : ITextTokenizer
{
    private readonly SentencePieceTokenizer tokenizer;
    private readonly byte[][] pieces;
    private readonly bool[] control;

    private SentencePieceTextTokenizer(SentencePieceTokenizer tokenizer)
    {
        this.tokenizer = tokenizer;
        int size = 0;
        foreach (var (_, id) in tokenizer.Vocabulary)
        {
            size = Math.Max(size, id + 1);
        }

        pieces = new byte[size][];
        control = new bool[size];
        foreach (var (piece, id) in tokenizer.Vocabulary)
        {
            bool isByte = tokenizer.ByteFallback && piece.Length == 6 && piece.StartsWith("<0x", StringComparison.Ordinal) && piece[5] == '>'
                && byte.TryParse(piece.AsSpan(3, 2), System.Globalization.NumberStyles.HexNumber, null, out _);
            pieces[id] = isByte ? new[] { byte.Parse(piece.AsSpan(3, 2), System.Globalization.NumberStyles.HexNumber, null) }
                : Encoding.UTF8.GetBytes(piece.Replace('\u2581', ' '));
        }

        foreach (int id in new[] { tokenizer.BeginningOfSentenceId, tokenizer.EndOfSentenceId, tokenizer.UnknownId })
        {
            if ((uint)id < (uint)size)
            {
                control[id] = true;
            }
        }
    }

    /// <summary>The library's tokenizer, for anything this wrapper does not expose.</summary>
    public SentencePieceTokenizer Inner => tokenizer;

    /// <inheritdoc />
    public int VocabSize => pieces.Length;

    /// <inheritdoc />
    public int BosId => tokenizer.BeginningOfSentenceId;

    /// <inheritdoc />
    public int EosId => tokenizer.EndOfSentenceId;

    /// <summary>Loads a serialized SentencePiece ModelProto.</summary>
    /// <exception cref="ModelFormatException">The file is not a SentencePiece model the library can read.</exception>
    public static SentencePieceTextTokenizer Load(string path)
    {
        using var stream = File.OpenRead(path);
        try
        {
            return new SentencePieceTextTokenizer(SentencePieceTokenizer.Create(stream, addBeginningOfSentence: false, addEndOfSentence: false));
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            throw new ModelFormatException(path, "ModelProto", 0, $"not a SentencePiece model Microsoft.ML.Tokenizers can read ({e.GetType().Name}: {e.Message})");
        }
    }

    /// <inheritdoc />
    /// <remarks>BOS and EOS are added here, not by the library, which adds neither to an empty text.</remarks>
    public List<int> Encode(string text, bool bos, bool eos)
    {
        var ids = new List<int>();
        if (bos)
        {
            ids.Add(BosId);
        }

        ids.AddRange(tokenizer.EncodeToIds(text ?? string.Empty, false, false, considerPreTokenization: true, considerNormalization: true));
        if (eos)
        {
            ids.Add(EosId);
        }

        return ids;
    }

    /// <inheritdoc />
    public ReadOnlySpan<byte> DecodeBytes(int previous, int token)
    {
        if ((uint)token >= (uint)pieces.Length || pieces[token] is null)
        {
            throw new ArgumentOutOfRangeException(nameof(token), token, $"Token ids run from 0 to {pieces.Length - 1}.");
        }

        if (control[token])
        {
            return ReadOnlySpan<byte>.Empty;
        }

        ReadOnlySpan<byte> piece = pieces[token];
        return previous == BosId && piece.Length > 0 && piece[0] == (byte)' ' ? piece[1..] : piece;
    }

    /// <inheritdoc />
    public string Decode(IReadOnlyList<int> tokens) => tokenizer.Decode(tokens, considerSpecialTokens: false);
}
