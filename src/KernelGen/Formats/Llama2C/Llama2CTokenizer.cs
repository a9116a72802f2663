using System;
using System.Collections.Generic;
using System.IO;
using System.Text;

namespace KernelGen.Formats.Llama2C;

/// <summary>
/// llama2.c's tokenizer file (<c>tokenizer.bin</c>, <c>tok512.bin</c>): uint32 max_token_length, then per id a float32
/// score, an int32 byte length and the piece's bytes. Encoding is run.c's: a dummy-prefix space, UTF-8 code points
/// looked up whole or as byte-fallback tokens (id = byte + 3), then greedy merges of the adjacent pair whose merged
/// piece has the highest score.
/// </summary>
public sealed class Llama2CTokenizer : Models.ITextTokenizer
{
    /// <summary>Beginning of sequence; llama2.c models also emit it to end a story.</summary>
    public const int Bos = 1;

    /// <summary>End of sequence.</summary>
    public const int Eos = 2;

    private const int ByteFallbackBase = 3;
    private static readonly Encoding Latin1 = Encoding.Latin1; // one char per byte: exact dictionary keys for raw bytes

    private readonly byte[][] pieces;
    private readonly float[] scores;
    private readonly Dictionary<string, int> ids;

    private Llama2CTokenizer(byte[][] pieces, float[] scores)
    {
        this.pieces = pieces;
        this.scores = scores;
        ids = new Dictionary<string, int>(pieces.Length, StringComparer.Ordinal);
        for (int i = 0; i < pieces.Length; i++)
        {
            ids.TryAdd(Latin1.GetString(pieces[i]), i);
        }
    }

    /// <summary>
    /// A tokenizer from a SentencePiece-style vocabulary (e.g. GGUF's tokenizer.ggml.tokens and .scores): pieces with
    /// '▁' for spaces, byte-fallback pieces "&lt;0xXX&gt;" at ids 3…258, BOS 1 and EOS 2, as llama2.c models use.
    /// </summary>
    public static Llama2CTokenizer FromVocabulary(IReadOnlyList<string> pieces, IReadOnlyList<float> scores)
    {
        ArgumentNullException.ThrowIfNull(pieces);
        ArgumentNullException.ThrowIfNull(scores);
        if (pieces.Count != scores.Count || pieces.Count < 259)
        {
            throw new ArgumentException($"{pieces.Count} pieces and {scores.Count} scores: a llama-style vocabulary needs one score per piece and at least the 259 control and byte pieces.");
        }

        var bytes = new byte[pieces.Count][];
        var values = new float[pieces.Count];
        for (int i = 0; i < bytes.Length; i++)
        {
            bytes[i] = Encoding.UTF8.GetBytes(pieces[i].Replace('\u2581', ' '));
            values[i] = scores[i];
        }

        return new Llama2CTokenizer(bytes, values);
    }

    /// <summary>Vocabulary size.</summary>
    public int VocabSize => pieces.Length;

    /// <inheritdoc />
    public int BosId => Bos;

    /// <inheritdoc />
    public int EosId => Eos;

    /// <summary>Loads <paramref name="vocabSize"/> pieces (the model's vocabulary size).</summary>
    /// <exception cref="ModelFormatException">Truncated file or an implausible length; names the field and offset.</exception>
    public static Llama2CTokenizer Load(string path, int vocabSize)
    {
        if (vocabSize <= 0)
        {
            throw new ArgumentOutOfRangeException(nameof(vocabSize), vocabSize, "The vocabulary size must be positive.");
        }

        var bytes = File.ReadAllBytes(path);
        int offset = 0;
        int ReadInt(string field)
        {
            if (offset + 4 > bytes.Length)
            {
                throw new ModelFormatException(path, field, offset, "the file ends here: truncated");
            }

            int value = BitConverter.ToInt32(bytes, offset);
            offset += 4;
            return value;
        }

        int maxTokenLength = ReadInt("max_token_length");
        if (maxTokenLength <= 0 || maxTokenLength > 1024)
        {
            throw new ModelFormatException(path, "max_token_length", 0, $"{maxTokenLength} is outside 1…1024: not a llama2.c tokenizer");
        }

        var pieces = new byte[vocabSize][];
        var scores = new float[vocabSize];
        for (int id = 0; id < vocabSize; id++)
        {
            int scoreOffset = offset;
            float score = BitConverter.Int32BitsToSingle(ReadInt($"score of token {id}"));
            if (!float.IsFinite(score))
            {
                throw new ModelFormatException(path, $"score of token {id}", scoreOffset, $"{score} is not finite");
            }

            int lengthOffset = offset;
            int length = ReadInt($"length of token {id}");
            if (length < 0 || length > 1024 || offset + length > bytes.Length)
            {
                throw new ModelFormatException(path, $"length of token {id}", lengthOffset,
                    $"{length} bytes {(length < 0 || length > 1024 ? "is outside 0…1024" : "run past the end of the file: truncated")}");
            }

            pieces[id] = bytes.AsSpan(offset, length).ToArray();
            scores[id] = score;
            offset += length;
        }

        return new Llama2CTokenizer(pieces, scores);
    }

    /// <summary>Encodes text as run.c does; adds BOS and/or EOS when asked.</summary>
    public List<int> Encode(string text, bool bos, bool eos)
    {
        ArgumentNullException.ThrowIfNull(text);
        var tokens = new List<int>(text.Length + 3);
        if (bos)
        {
            tokens.Add(Bos);
        }

        if (text.Length > 0 && ids.TryGetValue(" ", out int space))
        {
            tokens.Add(space); // SentencePiece's add_dummy_prefix
        }

        var utf8 = Encoding.UTF8.GetBytes(text);
        for (int i = 0; i < utf8.Length;)
        {
            int length = CodePointLength(utf8[i]);
            length = Math.Min(length, utf8.Length - i);
            if (ids.TryGetValue(Latin1.GetString(utf8, i, length), out int id))
            {
                tokens.Add(id);
            }
            else
            {
                for (int j = 0; j < length; j++)
                {
                    tokens.Add(utf8[i + j] + ByteFallbackBase);
                }
            }

            i += length;
        }

        // Merge the adjacent pair whose merged piece scores highest (the leftmost on ties), until no pair merges: run.c's
        // rule, with a heap of candidate pairs over a linked list instead of its rescan per merge (O(n log n), not O(n²)).
        int start = bos ? 1 : 0;
        Merge(tokens, start);

        if (eos)
        {
            tokens.Add(Eos);
        }

        return tokens;
    }

    private void Merge(List<int> tokens, int start)
    {
        int n = tokens.Count - start;
        if (n < 2)
        {
            return;
        }

        var token = tokens.GetRange(start, n).ToArray();
        var next = new int[n];
        var previous = new int[n];
        for (int i = 0; i < n; i++)
        {
            next[i] = i + 1 < n ? i + 1 : -1;
            previous[i] = i - 1;
        }

        // Priority: higher score first, then the leftmost pair (node indices keep their order as nodes are removed).
        var heap = new PriorityQueue<(int Left, int Right, int LeftToken, int RightToken, int Merged), (float Score, int Left)>(
            Comparer<(float Score, int Left)>.Create((a, b) => a.Score != b.Score ? b.Score.CompareTo(a.Score) : a.Left.CompareTo(b.Left)));
        void Push(int left)
        {
            int right = left < 0 ? -1 : next[left];
            if (left < 0 || right < 0)
            {
                return;
            }

            var merged = Latin1.GetString(pieces[token[left]]) + Latin1.GetString(pieces[token[right]]);
            if (ids.TryGetValue(merged, out int id))
            {
                heap.Enqueue((left, right, token[left], token[right], id), (scores[id], left));
            }
        }

        for (int i = 0; i < n - 1; i++)
        {
            Push(i);
        }

        while (heap.TryDequeue(out var pair, out _))
        {
            // Skip entries made stale by earlier merges.
            if (next[pair.Left] != pair.Right || token[pair.Left] != pair.LeftToken || token[pair.Right] != pair.RightToken)
            {
                continue;
            }

            token[pair.Left] = pair.Merged;
            int after = next[pair.Right];
            next[pair.Left] = after;
            if (after >= 0)
            {
                previous[after] = pair.Left;
            }

            next[pair.Right] = -2; // removed
            Push(previous[pair.Left]);
            Push(pair.Left);
        }

        tokens.RemoveRange(start, n);
        for (int i = 0; i >= 0; i = next[i])
        {
            tokens.Add(token[i]);
        }
    }

    /// <summary>The bytes of <paramref name="token"/> as text continues after <paramref name="previous"/>: the leading
    /// space of a piece right after BOS is dropped, and byte-fallback tokens give their byte.</summary>
    public ReadOnlySpan<byte> DecodeBytes(int previous, int token)
    {
        if ((uint)token >= (uint)pieces.Length)
        {
            throw new ArgumentOutOfRangeException(nameof(token), token, $"Token ids run from 0 to {pieces.Length - 1}.");
        }

        ReadOnlySpan<byte> piece = pieces[token];
        if (token >= ByteFallbackBase && token < ByteFallbackBase + 256)
        {
            return pieces[token].Length == 6 && piece[0] == (byte)'<' ? new[] { (byte)(token - ByteFallbackBase) } : piece;
        }

        return previous == Bos && piece.Length > 0 && piece[0] == (byte)' ' ? piece[1..] : piece;
    }

    /// <summary>Decodes a token sequence (BOS and EOS give no text).</summary>
    public string Decode(IReadOnlyList<int> tokens)
    {
        var bytes = new List<byte>();
        for (int i = 0; i < tokens.Count; i++)
        {
            if (tokens[i] is Bos or Eos)
            {
                continue;
            }

            bytes.AddRange(DecodeBytes(i == 0 ? Bos : tokens[i - 1], tokens[i]).ToArray());
        }

        return Encoding.UTF8.GetString(bytes.ToArray());
    }

    private static int CodePointLength(byte lead) => lead switch
    {
        < 0x80 => 1,
        >= 0xF0 => 4,
        >= 0xE0 => 3,
        >= 0xC0 => 2,
        _ => 1, // a stray continuation byte: byte fallback
    };
}
