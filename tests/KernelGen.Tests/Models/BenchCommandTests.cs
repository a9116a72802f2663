using System;
using System.IO;
using System.Linq;
using System.Text.Json;
using Xunit;

namespace KernelGen.Tests.Models;

/// <summary>
/// <c>kernelgen bench</c> end to end on ILGPU's CPU accelerator: the same code path the GPU runs go through (its check of
/// every case against float64, the spin start, the floors, the JSON), on shapes small enough for CI.
/// </summary>
[Collection(CommandLineCollection.Name)]
public sealed class BenchCommandTests : IDisposable
{
    private readonly TestDirectory scratch = new("kernelgen-bench-", create: false);

    private string directory => scratch.FullPath;

    public void Dispose() => scratch.Dispose();

    [Fact]
    public void Bench_OnTheCpu_ChecksEveryCaseAndWritesItsFloors()
    {
        // rc 0 only if every case agreed with the float64 reference (the bench's own check).
        using var report = Bench("bench.json", "--shapes", "64x256", "--m", "1,3", "--schemes", "q4g128,q2g64", "--reps", "3", "--warmup", "1");
        var root = report.RootElement;
        Assert.True(root.GetProperty("copyCeilingGigabytesPerSecond").GetDouble() > 0);
        Assert.True(root.GetProperty("emptyLaunchMicroseconds").GetDouble() > 0);
        var results = root.GetProperty("results").EnumerateArray().ToList();
        Assert.Equal(
            new[] { ("q4g128", 1), ("q4g128", 3), ("q2g64", 1), ("q2g64", 3) },
            results.Select(r => (r.GetProperty("Scheme").GetString()!, r.GetProperty("M").GetInt32())));
        foreach (var r in results)
        {
            int m = r.GetProperty("M").GetInt32();
            int bits = r.GetProperty("Scheme").GetString() == "q4g128" ? 4 : 2;

            // At least the codes, x and y, whatever the scales and zeros add.
            double least = (64.0 * 256 * bits / 8) + (4.0 * m * 256) + (4.0 * m * 64);
            Assert.InRange(r.GetProperty("Bytes").GetDouble(), least, least * 1.5);
            Assert.InRange(r.GetProperty("RelativeError").GetDouble(), 0, 1e-4);
            Assert.True(r.GetProperty("RowsChecked").GetInt32() > 0);
            Assert.True(r.GetProperty("Microseconds").GetDouble() > 0);
            Assert.True(r.GetProperty("ReadFloorMicroseconds").GetDouble() > 0);
        }
    }

    [Fact]
    public void DecodeBench_OnTheCpu_ChecksEveryProjectionOfBothModels()
    {
        using var report = Bench("decode.json", "--decode", "1", "--decode-shape", "128,384,4,2", "--schemes", "q4g128", "--reps", "2", "--warmup", "2");
        var r = Assert.Single(report.RootElement.GetProperty("results").EnumerateArray());

        // Two untimed steps: the separate model's seven projections and the stacked one's four (q|k|v, o, gate|up, down).
        Assert.Equal(2 * (7 + 4), r.GetProperty("ProjectionsChecked").GetInt32());
        Assert.InRange(r.GetProperty("WorstProjectionError").GetDouble(), 0, 1e-4);
        Assert.True(r.GetProperty("WorstProjectionError").GetDouble() > 0, "float32 sums are not float64's");
        Assert.True(r.GetProperty("MaxLogit").GetDouble() > 0);
        Assert.InRange(r.GetProperty("MaxLogitDifference").GetDouble(), 0, 1e-3 * r.GetProperty("MaxLogit").GetDouble());
        Assert.Equal(2, r.GetProperty("StackedStepMilliseconds").GetArrayLength());
    }

    /// <summary><c>kernelgen bench --device cpu ARGS --json FILE</c>, which must exit 0; its JSON report.</summary>
    private JsonDocument Bench(string file, params string[] args)
    {
        string json = Path.Combine(directory, file);
        int rc = KernelGen.Cli.Program.Main(["bench", "--device", "cpu", .. args, "--json", json]);
        Assert.Equal(0, rc);
        return JsonDocument.Parse(File.ReadAllText(json));
    }
}
