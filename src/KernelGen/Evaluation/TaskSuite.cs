using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text.Json;
using KernelGen.Formats;
using KernelGen.Models;

namespace KernelGen.Evaluation;

/// <summary>How a task's output is judged.</summary>
public enum TaskMatch
{
    /// <summary>The output contains the expected text (ordinal, case-insensitive).</summary>
    Contains,

    /// <summary>The output, trimmed, equals the expected text, trimmed.</summary>
    Exact,
}

/// <summary>One prompt → expected answer check.</summary>
/// <param name="Task">The task it belongs to (accuracy and the verdict are per task).</param>
/// <param name="Prompt">The prompt.</param>
/// <param name="Expected">The expected answer.</param>
/// <param name="Match">How the output is judged.</param>
/// <param name="Critical">Whether a drop on this task decides the verdict.</param>
public sealed record TaskItem(string Task, string Prompt, string Expected, TaskMatch Match, bool Critical);

/// <summary>What a model produced for one item.</summary>
public sealed record TaskOutcome(TaskItem Item, string Output, bool Correct);

/// <summary>One task's accuracy, float vs compressed, and whether it trips the verdict rule.</summary>
/// <param name="Task">The task.</param>
/// <param name="Critical">Whether the task is critical.</param>
/// <param name="Items">Items in the task.</param>
/// <param name="BaselineAccuracy">The float model's accuracy.</param>
/// <param name="CandidateAccuracy">The compressed model's accuracy.</param>
public sealed record TaskComparison(string Task, bool Critical, int Items, double BaselineAccuracy, double CandidateAccuracy)
{
    /// <summary>The users' rule: a compressed model that loses more than this fraction of the float model's accuracy on
    /// a critical task should be replaced by a smaller model, not used.</summary>
    public const double MaxRelativeDrop = 0.10;

    /// <summary>(baseline − candidate) / baseline; 0 when the baseline scores 0.</summary>
    public double RelativeDrop => BaselineAccuracy > 0 ? (BaselineAccuracy - CandidateAccuracy) / BaselineAccuracy : 0;

    /// <summary>True when this task is critical and drops by more than <see cref="MaxRelativeDrop"/>.</summary>
    public bool Fails => Critical && RelativeDrop > MaxRelativeDrop;
}

/// <summary>
/// Task checks from a JSONL file, one object per line: <c>{"prompt": "...", "expected": "...", "match": "contains"|"exact",
/// "task": "name", "critical": true}</c> (match defaults to contains, task to "default", critical to false). Each
/// prompt is completed greedily; the verdict rule is <see cref="TaskComparison.Fails"/>.
/// </summary>
public static class TaskSuite
{
    /// <summary>The verdict's advice when a critical task fails.</summary>
    public const string SwitchAdvice = "switch to a smaller model instead of compressing this one";

    /// <summary>Reads a JSONL task file.</summary>
    /// <exception cref="ModelFormatException">A line is not an object with string prompt and expected; names the line.</exception>
    public static List<TaskItem> Load(string path)
    {
        var items = new List<TaskItem>();
        int lineNumber = 0;
        long offset = 0;
        foreach (string line in File.ReadLines(path))
        {
            lineNumber++;
            long lineOffset = offset;
            offset += System.Text.Encoding.UTF8.GetByteCount(line) + 1;
            if (string.IsNullOrWhiteSpace(line))
            {
                continue;
            }

            JsonDocument document;
            try
            {
                document = JsonDocument.Parse(line);
            }
            catch (JsonException e)
            {
                throw new ModelFormatException(path, $"line {lineNumber}", lineOffset, $"not a JSON object: {e.Message}");
            }

            using (document)
            {
                var root = document.RootElement;
                string Field(string key, string? fallback)
                {
                    if (root.ValueKind == JsonValueKind.Object && root.TryGetProperty(key, out var value))
                    {
                        return value.ValueKind == JsonValueKind.String ? value.GetString()!
                            : throw new ModelFormatException(path, $"line {lineNumber}: {key}", lineOffset, $"{value.GetRawText()} is not a string");
                    }

                    return fallback ?? throw new ModelFormatException(path, $"line {lineNumber}: {key}", lineOffset, $"every task line needs \"{key}\" (a string)");
                }

                string match = Field("match", "contains");
                bool critical = root.ValueKind == JsonValueKind.Object && root.TryGetProperty("critical", out var flag)
                    ? flag.ValueKind is JsonValueKind.True or JsonValueKind.False ? flag.GetBoolean()
                        : throw new ModelFormatException(path, $"line {lineNumber}: critical", lineOffset, $"{flag.GetRawText()} is not true or false")
                    : false;
                items.Add(new TaskItem(
                    Field("task", "default"),
                    Field("prompt", null),
                    Field("expected", null),
                    match switch
                    {
                        "contains" => TaskMatch.Contains,
                        "exact" => TaskMatch.Exact,
                        _ => throw new ModelFormatException(path, $"line {lineNumber}: match", lineOffset, $"'{match}' is not \"contains\" or \"exact\""),
                    },
                    critical));
            }
        }

        return items.Count > 0 ? items : throw new ModelFormatException(path, "tasks", 0, "the file holds no task lines");
    }

    /// <summary>Completes every prompt greedily with up to <paramref name="maxNewTokens"/> tokens and judges it.</summary>
    public static List<TaskOutcome> Run(LlamaModel model, ITextTokenizer tokenizer, IReadOnlyList<TaskItem> items, int maxNewTokens = 32)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(tokenizer);
        ArgumentNullException.ThrowIfNull(items);
        var outcomes = new List<TaskOutcome>(items.Count);
        foreach (var item in items)
        {
            int promptLength = tokenizer.Encode(item.Prompt, bos: true, eos: false).Count;
            var tokens = TextGenerator.Generate(model, tokenizer, item.Prompt, promptLength + maxNewTokens, new Sampler(model.Config.VocabSize));
            string output = tokenizer.Decode(tokens.Skip(promptLength).ToList());
            outcomes.Add(new TaskOutcome(item, output, Judge(item, output)));
        }

        return outcomes;
    }

    /// <summary>Whether <paramref name="output"/> answers <paramref name="item"/>.</summary>
    public static bool Judge(TaskItem item, string output)
    {
        ArgumentNullException.ThrowIfNull(item);
        ArgumentNullException.ThrowIfNull(output);
        return item.Match == TaskMatch.Exact
            ? string.Equals(output.Trim(), item.Expected.Trim(), StringComparison.Ordinal)
            : output.Contains(item.Expected, StringComparison.OrdinalIgnoreCase);
    }

    /// <summary>Per-task accuracy of the float model and a candidate on the same items.</summary>
    public static List<TaskComparison> Compare(IReadOnlyList<TaskOutcome> baseline, IReadOnlyList<TaskOutcome> candidate)
    {
        ArgumentNullException.ThrowIfNull(baseline);
        ArgumentNullException.ThrowIfNull(candidate);
        if (baseline.Count != candidate.Count)
        {
            throw new ArgumentException($"{baseline.Count} baseline outcomes but {candidate.Count} candidate outcomes: run both on the same items.");
        }

        return baseline.Zip(candidate).GroupBy(pair => pair.First.Item.Task, StringComparer.Ordinal)
            .Select(group => new TaskComparison(
                group.Key,
                group.Any(p => p.First.Item.Critical),
                group.Count(),
                group.Average(p => p.First.Correct ? 1.0 : 0.0),
                group.Average(p => p.Second.Correct ? 1.0 : 0.0)))
            .ToList();
    }
}
