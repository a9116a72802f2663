using System;
using System.Linq;
using System.Reflection;
using System.Runtime.ExceptionServices;
using Xunit;

namespace KernelGen.Tests;

internal static partial class SchemeMatrix
{
    /// <summary>Scheme names as theory data (strings, so that each scheme is its own test case).</summary>
    public static TheoryData<string> Names
    {
        get
        {
            var data = new TheoryData<string>();
            foreach (var type in Types)
            {
                data.Add(type.Name);
            }

            return data;
        }
    }

    /// <summary>Calls the generic test method <paramref name="method"/>&lt;TScheme&gt; on <paramref name="target"/> for the
    /// scheme named <paramref name="scheme"/>, rethrowing what it throws as it was thrown.</summary>
    public static void Invoke(object target, string method, string scheme)
    {
        var type = Types.Single(t => t.Name == scheme);
        var generic = target.GetType().GetMethod(method, BindingFlags.Instance | BindingFlags.Public | BindingFlags.NonPublic)
            ?? throw new InvalidOperationException($"No method {method} on {target.GetType().Name}.");
        try
        {
            generic.MakeGenericMethod(type).Invoke(target, null);
        }
        catch (TargetInvocationException e) when (e.InnerException is not null)
        {
            ExceptionDispatchInfo.Capture(e.InnerException).Throw();
        }
    }
}
