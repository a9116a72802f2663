using System;
using Spectre.Console;

namespace KernelGen.Cli;

/// <summary>Spectre.Console progress for long steps (loading, quantizing), drawn on standard error so that standard
/// output stays the command's result (generated text, embeddings). Redirected, it draws nothing.</summary>
internal static class ConsoleProgress
{
    private static readonly IAnsiConsole Errors = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(Console.Error) });

    /// <summary>Runs <paramref name="work"/> under one progress bar; it reports (fraction done 0…1, what it is doing).</summary>
    public static T Run<T>(string title, Func<Action<double, string>, T> work)
    {
        if (!Errors.Profile.Capabilities.Interactive)
        {
            return work((_, _) => { });
        }

        T result = default!;
        Errors.Progress()
            .AutoClear(true)
            .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new ElapsedTimeColumn(), new SpinnerColumn())
            .Start(context =>
            {
                var task = context.AddTask(Markup.Escape(title), maxValue: 1.0);
                result = work((fraction, what) =>
                {
                    task.Value = Math.Clamp(fraction, 0, 1);
                    task.Description = Markup.Escape($"{title}: {what}");
                });
                task.Value = 1.0;
            });
        return result;
    }
}
