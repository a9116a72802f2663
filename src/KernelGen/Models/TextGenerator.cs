using System;
using System.Collections.Generic;
using System.Text;

namespace KernelGen.Models;

/// <summary>run.c's generation loop: feed the prompt, then sample until EOS, BOS (a llama2.c story's end) or the step budget.</summary>
public static class TextGenerator
{
    /// <summary>
    /// The prompt's tokens (BOS first), checked against the step budget before any model is built: <paramref name="steps"/>
    /// counts every position, prompt included, capped at <paramref name="seqLen"/>.
    /// </summary>
    /// <exception cref="ArgumentException">The prompt needs more positions than that; the message gives both counts.</exception>
    public static List<int> EncodePrompt(ITextTokenizer tokenizer, string? prompt, int steps, int seqLen)
    {
        ArgumentNullException.ThrowIfNull(tokenizer);
        steps = Math.Min(steps, seqLen);
        var promptTokens = tokenizer.Encode(prompt ?? string.Empty, bos: true, eos: false);
        if (promptTokens.Count > steps)
        {
            throw new ArgumentException($"The prompt is {promptTokens.Count} tokens, more than the {steps} steps allowed (the model holds {seqLen}); raise -n or shorten the prompt.", nameof(prompt));
        }

        return promptTokens;
    }

    /// <summary>
    /// Generates text after <paramref name="prompt"/>. <paramref name="steps"/> counts every position, prompt
    /// included, as run.c's -n does (capped at the model's sequence length). Each new piece of text is passed to
    /// <paramref name="onText"/> as soon as it forms whole UTF-8 characters. Returns the tokens (BOS first).
    /// </summary>
    public static List<int> Generate(LlamaModel model, ITextTokenizer tokenizer, string prompt, int steps, Sampler sampler, Action<string>? onText = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(tokenizer);
        ArgumentNullException.ThrowIfNull(sampler);
        if (steps <= 0)
        {
            throw new ArgumentOutOfRangeException(nameof(steps), steps, "The step budget must be positive.");
        }

        steps = Math.Min(steps, model.Config.SeqLen);
        var promptTokens = EncodePrompt(tokenizer, prompt, steps, model.Config.SeqLen);

        var tokens = new List<int>(steps + 1) { promptTokens[0] };
        var decoder = Encoding.UTF8.GetDecoder();
        var chars = new char[64];
        int token = promptTokens[0];
        for (int pos = 0; pos < steps; pos++)
        {
            var logits = model.Forward(token, pos);
            int next = pos + 1 < promptTokens.Count ? promptTokens[pos + 1] : sampler.Sample(logits);
            if (next == tokenizer.BosId || next == tokenizer.EosId)
            {
                break; // EOS ends the text; llama2.c models start the next story with BOS
            }

            if (onText is not null)
            {
                var bytes = tokenizer.DecodeBytes(token, next);
                int count = decoder.GetCharCount(bytes, flush: false);
                if (count > chars.Length)
                {
                    chars = new char[count];
                }

                int written = decoder.GetChars(bytes, chars, flush: false);
                if (written > 0)
                {
                    onText(new string(chars, 0, written));
                }
            }

            tokens.Add(next);
            token = next;
        }

        return tokens;
    }
}
