using System.Text.Json;
using DataflowContrastive.Host.Commands;

namespace DataflowContrastive.Tests.Host;

/// <summary>A run's and an inspection's own Parquet outputs are never read back as input shards.</summary>
public sealed class OwnOutputsTests : IDisposable
{
    private readonly string _work = Directory.CreateTempSubdirectory("dfc-own-").FullName;

    public void Dispose() => Directory.Delete(_work, recursive: true);

    [Fact]
    public async Task A_run_whose_output_lies_inside_its_shards_folder_reads_only_the_shards_and_runs_again()
    {
        string data = Path.Combine(_work, "data");
        Directory.CreateDirectory(data);
        File.Copy(TestPaths.Repo("samples", "coco-cc", "coco-cc-00000.parquet"), Path.Combine(data, "a.parquet"));
        string pipeline = Path.Combine(_work, "p.yaml");
        await File.WriteAllTextAsync(pipeline, """
            source: { shards: data }
            output: data/out
            images: { size: 32 }
            batch: { size: 4 }
            model: { embed_dim: 8, image_widths: [4], text_width: 16, text_layers: 1, text_heads: 2 }
            train: { steps: 2, device: cpu }
            export: { rows_per_shard: 5 }
            """);

        Assert.Equal(0, await CommandLine.DispatchAsync(["run", pipeline], CancellationToken.None));
        Assert.Equal(0, await CommandLine.DispatchAsync(["run", pipeline], CancellationToken.None));

        // The copied shard holds 17 rows (the sample's first shard); the exports of the first run are not input.
        using JsonDocument summary = JsonDocument.Parse(
            await File.ReadAllTextAsync(Path.Combine(data, "out", "summary.json")));
        Assert.Equal(1, summary.RootElement.GetProperty("shards").GetInt32());
        Assert.Equal(17, summary.RootElement.GetProperty("exported_rows").GetInt64());
    }

    [Fact]
    public async Task Inspecting_a_folder_twice_does_not_read_the_first_inspections_rejects_file()
    {
        string data = Path.Combine(_work, "data");
        Directory.CreateDirectory(data);
        File.Copy(TestPaths.Shared("data", "parquet-real", "smoosense_images.parquet"),
            Path.Combine(data, "s.parquet"));
        string rejects = Path.Combine(data, "rejects.parquet");

        var first = new StringWriter();
        var second = new StringWriter();
        Assert.Equal(0, await InspectCommand.RunAsync([data, "--json", "--rejects", rejects], first, TextWriter.Null,
            CancellationToken.None));
        Assert.Equal(0, await InspectCommand.RunAsync([data, "--json", "--rejects", rejects], second, TextWriter.Null,
            CancellationToken.None));

        // smoosense holds 4 photos and no caption column: 4 rows, 4 rejected, both times.
        foreach (StringWriter output in new[] { first, second })
        {
            using JsonDocument report = JsonDocument.Parse(output.ToString());
            Assert.Equal((4, 4), (report.RootElement.GetProperty("rows").GetInt32(),
                report.RootElement.GetProperty("rows_rejected").GetInt32()));
        }
    }
}
