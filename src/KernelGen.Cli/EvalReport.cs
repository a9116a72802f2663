using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Text;
using System.Text.Json;
using KernelGen.Evaluation;

namespace KernelGen.Cli;

/// <summary>The evaluation report: report.md, metrics.json and three PNG plots (ScottPlot), written atomically as a
/// directory (built beside the target, then moved into place).</summary>
internal static class EvalReport
{
    public sealed record Context(
        string BaseName, string TextName, string? CalibrationName, int TextTokens, BaselineMetrics Baseline, IReadOnlyList<DecoderMetrics> Candidates,
        IReadOnlyList<TaskOutcome>? BaselineTasks, IReadOnlyList<IReadOnlyList<TaskOutcome>> CandidateTasks)
    {
        public List<TaskComparison> Tasks(int candidate)
            => BaselineTasks is null ? new List<TaskComparison>() : TaskSuite.Compare(BaselineTasks, CandidateTasks[candidate]);
    }

    /// <summary>Writes the report into <paramref name="directory"/> (replacing it) and returns report.md's path.</summary>
    public static string Write(string directory, Context context)
        => WriteDirectory(directory, staging =>
        {
            PlotLayerErrors(Path.Combine(staging, "layer-error.png"), context);
            PlotKlDistribution(Path.Combine(staging, "kld-distribution.png"), context);
            PlotBitsVsKl(Path.Combine(staging, "bits-vs-kld.png"), context);
            File.WriteAllText(Path.Combine(staging, "metrics.json"), Json(context));
            File.WriteAllText(Path.Combine(staging, "report.md"), Markdown(context));
        });

    /// <summary>Fills a staging directory beside <paramref name="directory"/> with <paramref name="fill"/>, then
    /// replaces <paramref name="directory"/> with it (nothing half-written is left on failure); returns report.md's path.</summary>
    public static string WriteDirectory(string directory, Action<string> fill)
    {
        string target = Path.GetFullPath(directory);
        string staging = target + ".tmp-" + Guid.NewGuid().ToString("N")[..8];
        Directory.CreateDirectory(staging);
        try
        {
            fill(staging);
            if (Directory.Exists(target))
            {
                Directory.Delete(target, recursive: true);
            }

            Directory.Move(staging, target);
        }
        catch
        {
            Directory.Delete(staging, recursive: true);
            throw;
        }

        return Path.Combine(target, "report.md");
    }

    public static string SummaryTable(Context c)
    {
        var b = new StringBuilder();
        b.AppendLine("| model | bits/weight | perplexity | Δ perplexity | mean KL | p99 KL | max KL | same top-1 | tasks |");
        b.AppendLine("|---|---:|---:|---:|---:|---:|---:|---:|---:|");
        string baseTasks = c.BaselineTasks is null ? "–" : Percent(c.BaselineTasks.Average(t => t.Correct ? 1.0 : 0.0));
        b.AppendLine(Invariant($"| {c.BaseName} (float32) | 32 | {c.Baseline.Perplexity:F3} | – | – | – | – | – | {baseTasks} |"));
        for (int i = 0; i < c.Candidates.Count; i++)
        {
            var m = c.Candidates[i];
            string tasks = c.BaselineTasks is null ? "–" : Percent(c.CandidateTasks[i].Average(t => t.Correct ? 1.0 : 0.0));
            b.AppendLine(Invariant($"| {m.Name} | {m.BitsPerWeight:F3} | {m.Perplexity:F3} | {m.Perplexity - c.Baseline.Perplexity:+0.000;-0.000} | {m.MeanKl:E2} | {m.P99Kl:E2} | {m.MaxKl:E2} | {Percent(m.SameTop1)} | {tasks} |"));
        }

        return b.ToString().TrimEnd();
    }

    public static string Verdicts(Context c)
    {
        var b = new StringBuilder();
        for (int i = 0; i < c.Candidates.Count; i++)
        {
            var failing = c.Tasks(i).Where(t => t.Fails).ToList();
            if (c.BaselineTasks is null)
            {
                b.AppendLine($"- {c.Candidates[i].Name}: no task checks given (--tasks); perplexity and KL alone cannot clear it.");
            }
            else if (failing.Count == 0)
            {
                b.AppendLine(Invariant($"- {c.Candidates[i].Name}: keep. No critical task lost more than {TaskComparison.MaxRelativeDrop:P0} of the float model's accuracy."));
            }
            else
            {
                b.AppendLine(Invariant($"- {c.Candidates[i].Name}: **{TaskSuite.SwitchAdvice}**. Critical task(s) {string.Join(", ", failing.Select(t => $"'{t.Task}' ({Percent(t.BaselineAccuracy)} → {Percent(t.CandidateAccuracy)})"))} dropped more than {TaskComparison.MaxRelativeDrop:P0}."));
            }
        }

        return b.ToString().TrimEnd();
    }

    private static string Markdown(Context c)
    {
        var b = new StringBuilder();
        b.AppendLine($"# Evaluation of compressed copies of {c.BaseName}");
        b.AppendLine();
        b.AppendLine(Invariant($"Evaluation text: `{c.TextName}`, {c.TextTokens} tokens, cut into {c.Baseline.Chunks} non-overlapping chunks of {c.Baseline.ChunkLength} tokens ({c.Baseline.Positions} predicted positions; a shorter tail is dropped). Each chunk is fed from position 0 after a BOS; perplexity is exp(mean negative log-likelihood) of every chunk token. KL divergence is KL(P_float ‖ P_compressed) in nats over the full vocabulary at the same positions; same top-1 counts positions whose arg-max token matches the float model's."));
        b.AppendLine();
        b.AppendLine(c.CalibrationName is null
            ? "Calibration: none (no GPTQ or AWQ candidate, or no --calib)."
            : $"Calibration text (GPTQ, AWQ): `{c.CalibrationName}`, a different file from the evaluation text.");
        b.AppendLine();
        b.AppendLine(SummaryTable(c));
        b.AppendLine();
        b.AppendLine("## Verdict");
        b.AppendLine();
        b.AppendLine(Invariant($"The rule: a drop of more than {TaskComparison.MaxRelativeDrop:P0} (relative to the float model's accuracy) on any critical task means *{TaskSuite.SwitchAdvice}*."));
        b.AppendLine();
        b.AppendLine(Verdicts(c));
        b.AppendLine();
        b.AppendLine("## Where the error comes from");
        b.AppendLine();
        b.AppendLine("Relative output error ‖y − y_float‖ / ‖y_float‖ of each projection, measured on the inputs it actually received inside the compressed model (so errors of earlier layers are part of its context but not of its number). The five worst per model:");
        b.AppendLine();
        foreach (var m in c.Candidates)
        {
            var worst = m.Layers.OrderByDescending(l => l.RelativeError).Take(5).ToList();
            b.AppendLine(Invariant($"- {m.Name}: {string.Join(", ", worst.Select(l => $"{l.Name} {l.RelativeError:F4}"))}"));
        }

        b.AppendLine();
        b.AppendLine("![per-projection relative output error](layer-error.png)");
        b.AppendLine();
        b.AppendLine("## Distribution of the KL divergence");
        b.AppendLine();
        b.AppendLine("The mean hides the tail: the positions where the compressed model disagrees most are the ones users notice.");
        b.AppendLine();
        b.AppendLine("![KL divergence per position](kld-distribution.png)");
        b.AppendLine();
        b.AppendLine("![bits per weight vs mean KL](bits-vs-kld.png)");
        if (c.BaselineTasks is not null)
        {
            b.AppendLine();
            b.AppendLine("## Task checks");
            b.AppendLine();
            b.AppendLine("| model | task | critical | items | float accuracy | compressed accuracy | relative drop |");
            b.AppendLine("|---|---|---|---:|---:|---:|---:|");
            for (int i = 0; i < c.Candidates.Count; i++)
            {
                foreach (var t in c.Tasks(i))
                {
                    b.AppendLine(Invariant($"| {c.Candidates[i].Name} | {t.Task} | {(t.Critical ? "yes" : "no")} | {t.Items} | {Percent(t.BaselineAccuracy)} | {Percent(t.CandidateAccuracy)} | {t.RelativeDrop:P0} |"));
                }
            }

            b.AppendLine();
            b.AppendLine("Outputs that changed verdict:");
            b.AppendLine();
            for (int i = 0; i < c.Candidates.Count; i++)
            {
                foreach (var (baseline, candidate) in c.BaselineTasks.Zip(c.CandidateTasks[i]).Where(p => p.First.Correct != p.Second.Correct))
                {
                    b.AppendLine($"- {c.Candidates[i].Name}, \"{baseline.Item.Prompt}\" (expects \"{baseline.Item.Expected}\"): float `{OneLine(baseline.Output)}` → compressed `{OneLine(candidate.Output)}`");
                }
            }
        }

        return b.ToString();
    }

    private static string Json(Context c)
    {
        var document = new
        {
            model = c.BaseName,
            text = c.TextName,
            calibration = c.CalibrationName,
            protocol = new { c.Baseline.ChunkLength, c.Baseline.Chunks, c.Baseline.Positions, bosPerChunk = true },
            baseline = new { perplexity = c.Baseline.Perplexity, taskAccuracy = c.BaselineTasks?.Average(t => t.Correct ? 1.0 : 0.0) },
            candidates = c.Candidates.Select((m, i) => new
            {
                name = m.Name,
                bitsPerWeight = m.BitsPerWeight,
                perplexity = m.Perplexity,
                meanKl = m.MeanKl,
                p99Kl = m.P99Kl,
                maxKl = m.MaxKl,
                sameTop1 = m.SameTop1,
                layers = m.Layers.Select(l => new { name = l.Name, relativeError = l.RelativeError }),
                tasks = c.Tasks(i).Select(t => new { task = t.Task, critical = t.Critical, items = t.Items, baseline = t.BaselineAccuracy, compressed = t.CandidateAccuracy, fails = t.Fails }),
            }),
        };
        return JsonSerializer.Serialize(document, new JsonSerializerOptions { WriteIndented = true });
    }

    private static void PlotLayerErrors(string path, Context c)
    {
        var plot = new ScottPlot.Plot();
        foreach (var m in c.Candidates)
        {
            var xs = Enumerable.Range(0, m.Layers.Count).Select(i => (double)i).ToArray();
            var line = plot.Add.Scatter(xs, m.Layers.Select(l => l.RelativeError).ToArray());
            line.LegendText = m.Name;
        }

        var names = c.Candidates.FirstOrDefault()?.Layers.Select(l => ShortName(l.Name)).ToArray() ?? Array.Empty<string>();
        if (names.Length > 0)
        {
            int every = Math.Max(1, (int)Math.Ceiling(names.Length / 42.0));
            var ticks = Enumerable.Range(0, names.Length).Where(i => i % every == 0).Select(i => new ScottPlot.Tick(i, names[i])).ToArray();
            plot.Axes.Bottom.TickGenerator = new ScottPlot.TickGenerators.NumericManual(ticks);
            plot.Axes.Bottom.TickLabelStyle.Rotation = 90;
            plot.Axes.Bottom.TickLabelStyle.Alignment = ScottPlot.Alignment.MiddleLeft;
            plot.Axes.Bottom.MinimumSize = 70;
        }

        plot.Title("Relative output error per projection (layer.projection)");
        plot.YLabel("‖y − y_float‖ / ‖y_float‖");
        plot.ShowLegend(ScottPlot.Alignment.UpperLeft);
        plot.SavePng(path, 1000, 520);
    }

    private static void PlotKlDistribution(string path, Context c)
    {
        // Histogram of log10(KL) per position, one line per model (fractions of positions per bin).
        var plot = new ScottPlot.Plot();
        var all = c.Candidates.SelectMany(m => m.KlDivergence).Where(v => v > 0).ToArray();
        double lo = all.Length == 0 ? -6 : Math.Floor(Math.Log10(all.Min())), hi = all.Length == 0 ? 1 : Math.Ceiling(Math.Log10(all.Max()));
        lo = Math.Max(lo, -12);
        int bins = 40;
        double width = (hi - lo) / bins;
        foreach (var m in c.Candidates)
        {
            var counts = new double[bins];
            foreach (double v in m.KlDivergence)
            {
                double x = Math.Log10(Math.Max(v, Math.Pow(10, lo)));
                counts[Math.Clamp((int)((x - lo) / width), 0, bins - 1)] += 1.0 / m.KlDivergence.Length;
            }

            var centers = Enumerable.Range(0, bins).Select(i => lo + ((i + 0.5) * width)).ToArray();
            var line = plot.Add.Scatter(centers, counts);
            line.LegendText = Invariant($"{m.Name} (mean {m.MeanKl:E1}, p99 {m.P99Kl:E1})");
        }

        plot.Title("KL(P_float ‖ P_compressed) per position");
        plot.XLabel("log10 KL (nats)");
        plot.YLabel("fraction of positions");
        plot.ShowLegend(ScottPlot.Alignment.UpperLeft);
        plot.SavePng(path, 900, 500);
    }

    private static void PlotBitsVsKl(string path, Context c)
    {
        var plot = new ScottPlot.Plot();
        foreach (var m in c.Candidates)
        {
            double y = Math.Log10(Math.Max(m.MeanKl, 1e-12));
            var point = plot.Add.Scatter(new[] { m.BitsPerWeight }, new[] { y });
            point.MarkerSize = 10;
            var label = plot.Add.Text(" " + m.Name, m.BitsPerWeight, y);
            label.LabelFontSize = 12;
        }

        if (c.Candidates.Count > 0)
        {
            var xs = c.Candidates.Select(m => m.BitsPerWeight).ToArray();
            var ys = c.Candidates.Select(m => Math.Log10(Math.Max(m.MeanKl, 1e-12))).ToArray();
            plot.Axes.SetLimits(xs.Min() - 0.5, xs.Max() + 1.5, ys.Min() - 0.5, ys.Max() + 0.5);
        }

        plot.Title("Storage vs damage");
        plot.XLabel("bits per weight (scales and zeros included)");
        plot.YLabel("log10 mean KL (nats)");
        plot.SavePng(path, 800, 500);
    }

    /// <summary>"blk.3.attn_q" → "3.q", "blk.3.ffn_down" → "3.down".</summary>
    private static string ShortName(string name)
    {
        var parts = name.Split('.');
        if (parts.Length != 3)
        {
            return name;
        }

        string kind = parts[2] switch
        {
            "attn_q" => "q",
            "attn_k" => "k",
            "attn_v" => "v",
            "attn_output" => "o",
            "ffn_gate" => "gate",
            "ffn_up" => "up",
            "ffn_down" => "down",
            _ => parts[2],
        };
        return parts[1] + "." + kind;
    }

    private static string Percent(double fraction) => fraction.ToString("P1", CultureInfo.InvariantCulture);

    private static string OneLine(string text) => text.Replace("\n", " ", StringComparison.Ordinal).Replace("`", "'", StringComparison.Ordinal).Trim();

    private static string Invariant(FormattableString text) => FormattableString.Invariant(text);
}
