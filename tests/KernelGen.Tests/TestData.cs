using System;

namespace KernelGen.Tests;

/// <summary>
/// Fresh seeded random inputs. Each run draws a new seed (printed in every failure message through
/// <see cref="Describe"/>); set KERNELGEN_TEST_SEED to replay a failing run.
/// </summary>
internal static class TestData
{
    public static readonly int RunSeed = Environment.GetEnvironmentVariable("KERNELGEN_TEST_SEED") is { } fixedSeed
        ? int.Parse(fixedSeed, System.Globalization.CultureInfo.InvariantCulture)
        : Random.Shared.Next();

    public static Random CreateRandom(string salt) => new(unchecked(RunSeed ^ StableHash(salt)));

    public static string Describe(string what) => $"{what} (KERNELGEN_TEST_SEED={RunSeed})";

    /// <summary>
    /// Weights that exercise every branch of the quantizers: groups of very different magnitudes, all-positive and
    /// all-negative groups (the asymmetric grid must still contain 0), a lone outlier, and one all-zero group.
    /// </summary>
    public static float[] Weights(Random random, int rows, int cols, int groupSize)
    {
        var weights = new float[rows * cols];
        for (int row = 0; row < rows; row++)
        {
            for (int start = 0; start < cols; start += groupSize)
            {
                int kind = random.Next(6);
                double magnitude = Math.Pow(10, random.NextDouble() * 4 - 3); // 1e-3 … 10
                for (int k = start; k < start + groupSize; k++)
                {
                    double v = Gaussian(random) * magnitude;
                    v = kind switch
                    {
                        1 => Math.Abs(v) + (magnitude * 0.5),  // all positive, away from 0
                        2 => -Math.Abs(v) - (magnitude * 0.5), // all negative, away from 0
                        _ => v,
                    };
                    weights[(row * cols) + k] = (float)v;
                }

                if (kind == 3)
                {
                    weights[(row * cols) + start + random.Next(groupSize)] = (float)(magnitude * 20); // an outlier
                }
            }
        }

        // One group of zeros (scale 0) where the matrix has room for it.
        if (rows > 1)
        {
            Array.Clear(weights, cols, Math.Min(groupSize, cols));
        }

        return weights;
    }

    public static float[] Activations(Random random, int count)
    {
        var x = new float[count];
        for (int i = 0; i < count; i++)
        {
            x[i] = (float)Gaussian(random);
        }

        return x;
    }

    public static double Gaussian(Random random)
    {
        double u1 = 1.0 - random.NextDouble();
        double u2 = random.NextDouble();
        return Math.Sqrt(-2.0 * Math.Log(u1)) * Math.Cos(2.0 * Math.PI * u2);
    }

    private static int StableHash(string text)
    {
        unchecked
        {
            int hash = (int)2166136261;
            foreach (char c in text)
            {
                hash = (hash ^ c) * 16777619;
            }

            return hash;
        }
    }
}
