using DataflowContrastive.Ingest;
using System.Text.Json;
using DataflowContrastive.Host.Commands;
using DataflowContrastive.Host.Export;
using DataflowContrastive.Host.Running;
using Microsoft.Extensions.Logging.Abstractions;
using Parquet.Serialization;

namespace DataflowContrastive.Tests.Host;

public sealed class MixedFolderRunTests : IDisposable
{
    private readonly string _work = Directory.CreateTempSubdirectory("dfc-mixed-run-").FullName;

    public void Dispose() => Directory.Delete(_work, recursive: true);

    [Fact]
    public async Task A_run_over_a_mixed_folder_completes_and_its_summary_accounts_for_every_row()
    {
        MixedFolder folder = await MixedFolder.CreateAsync(Path.Combine(_work, "shards"));
        string pipeline = WritePipeline(folder.Path);

        int exitCode = await CommandLine.DispatchAsync(["run", pipeline], CancellationToken.None);

        Assert.Equal(0, exitCode);
        JsonElement summary = JsonDocument.Parse(await File.ReadAllBytesAsync(Path.Combine(_work, "out",
            "summary.json"))).RootElement;
        var rejected = summary.GetProperty("rejected_by_reason").EnumerateObject()
            .ToDictionary(p => p.Name, p => p.Value.GetInt64());

        // Rows: each is exported as a good sample or rejected once by its reason.
        var rowReasons = rejected.Where(p => !p.Key.StartsWith("shard-", StringComparison.Ordinal));
        Assert.Equal(folder.Rejected.Where(p => !p.Key.StartsWith("shard-", StringComparison.Ordinal)), rowReasons);
        Assert.Equal(folder.Good, summary.GetProperty("exported_rows").GetInt64());
        Assert.Equal(folder.Rows, folder.Good + rowReasons.Sum(p => p.Value));

        // Shards: each bad one is rejected once, whatever code the run files it under.
        Assert.Equal(folder.RejectedShards.Count,
            rejected.Where(p => p.Key.StartsWith("shard-", StringComparison.Ordinal)).Sum(p => p.Value));
        Assert.Equal(1, summary.GetProperty("notes").GetProperty("caption-invalid-utf8").GetInt64());
        Assert.Equal(1, summary.GetProperty("notes").GetProperty("caption-truncated").GetInt64());
        long recorded = 0;
        foreach (string part in Directory.GetFiles(Path.Combine(_work, "out", "rejects"), "part-*.parquet"))
        {
            recorded += await new ShardReader(new IngestOptions()).CountRowsAsync(part, CancellationToken.None);
        }
        Assert.Equal(rejected.Sum(p => p.Value), recorded);
        await AssertCaptionsReachTheExportUnchangedAsync(Path.Combine(_work, "out", "embeddings"), folder);
    }

    // An earlier run into the same output folder failed before its first checkpoint and left a rejects part; this
    // run, having no checkpoint to resume, counts its own rejections only and keeps the earlier part aside.
    [Fact]
    public async Task A_run_that_starts_over_sets_earlier_rejects_aside_instead_of_counting_them()
    {
        MixedFolder folder = await MixedFolder.CreateAsync(Path.Combine(_work, "shards"));
        string pipeline = WritePipeline(folder.Path);
        string rejects = Path.Combine(_work, "out", "rejects");
        await using (RunRecorder earlier = await RunRecorder.OpenPartsAsync(rejects, NullLogger.Instance, default))
        {
            await earlier.RejectAsync(new Rejection("/gone/old.parquet", null, null, "unreadable", null),
                "earlier-only", default);
        }

        Assert.Equal(0, await CommandLine.DispatchAsync(["run", pipeline], CancellationToken.None));

        JsonElement summary = JsonDocument.Parse(await File.ReadAllBytesAsync(Path.Combine(_work, "out",
            "summary.json"))).RootElement;
        Assert.False(summary.GetProperty("rejected_by_reason").TryGetProperty("earlier-only", out _));
        Assert.Equal(folder.Rejected.Values.Sum(),
            summary.GetProperty("rejected_by_reason").EnumerateObject().Sum(p => p.Value.GetInt64()));
        string aside = Assert.Single(Directory.GetDirectories(rejects, "earlier-*"));
        Assert.Single(Directory.GetFiles(aside, "part-*.parquet"));
    }

    private static async Task AssertCaptionsReachTheExportUnchangedAsync(string directory, MixedFolder folder)
    {
        var captions = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (string shard in Directory.GetFiles(directory, "embeddings-*.parquet"))
        {
            foreach (EmbeddingRow row in (await ParquetSerializer.DeserializeAsync<EmbeddingRow>(shard)).Data)
            {
                captions.Add(row.Key, row.Caption!);
            }
        }

        Assert.Equal(folder.GoodCaptions.OrderBy(p => p.Key, StringComparer.Ordinal),
            captions.OrderBy(p => p.Key, StringComparer.Ordinal));
        Assert.Equal(MixedFolder.CjkCaption, captions["coco-0"]);
        Assert.Equal(MixedFolder.InvalidUtf8Caption, captions["b-utf8.parquet:1"]);
    }

    private string WritePipeline(string shards)
    {
        string path = Path.Combine(_work, "mixed.yaml");
        File.WriteAllText(path, $"""
            source:
              shards: {shards}
              shuffle_buffer: 8
            output: out
            images: {"{"} size: 32, workers: 2 {"}"}
            batch: {"{"} size: 4 {"}"}
            model: {"{"} embed_dim: 8, image_widths: [4, 8], text_width: 16, text_layers: 1, text_heads: 2,
                     context_length: 24 {"}"}
            train: {"{"} steps: 2, device: cpu, log_every: 1 {"}"}
            checkpoint: {"{"} every: 2, keep: 1 {"}"}
            export: {"{"} rows_per_shard: 100 {"}"}
            """);
        return path;
    }
}
