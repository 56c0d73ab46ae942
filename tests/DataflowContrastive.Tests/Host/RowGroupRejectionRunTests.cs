using System.Text.Json;
using DataflowContrastive.Host.Commands;
using DataflowContrastive.Host.Export;
using DataflowContrastive.Tests.Ingest;
using Parquet;
using Parquet.Schema;
using Parquet.Serialization;
using SkiaSharp;

namespace DataflowContrastive.Tests.Host;

/// <summary>
/// Through the host, a bad middle row group of a shard is rejected row by row and the row groups after it are
/// inspected, trained and exported: rows read = good + rejected, with one rejects record per bad row.
/// </summary>
public sealed class RowGroupRejectionRunTests : IDisposable
{
    private readonly string _work = Directory.CreateTempSubdirectory("dfc-row-groups-").FullName;

    public void Dispose() => Directory.Delete(_work, recursive: true);

    [Fact]
    public async Task Inspect_rejects_each_row_of_a_corrupt_row_group_and_counts_the_later_groups_as_good()
    {
        string shard = await WriteShardAsync(bigCaptions: false);
        await ShardReaderTests.CorruptRowGroupAsync(shard, rowGroup: 1);
        string rejects = Path.Combine(_work, "rejects.parquet");
        using var output = new StringWriter();
        using var error = new StringWriter();

        int exitCode = await InspectCommand.RunAsync(["--json", "--rejects", rejects, "--size", "32", shard], output,
            error, CancellationToken.None);

        Assert.True(exitCode == 0, error.ToString());
        JsonElement report = JsonDocument.Parse(output.ToString()).RootElement;
        Assert.Equal((1, 0),
            (report.GetProperty("shards").GetInt32(), report.GetProperty("shards_rejected").GetInt32()));
        Assert.Equal((12L, 9L, 3L), (report.GetProperty("rows").GetInt64(), report.GetProperty("good").GetInt64(),
            report.GetProperty("rows_rejected").GetInt64()));
        Assert.Equal(3, report.GetProperty("rejected_by_reason").GetProperty("row-group-corrupt").GetInt64());
        Assert.Single(report.GetProperty("rejected_by_reason").EnumerateObject());

        var records = await ReadRejectsAsync([rejects]);
        Assert.Equal([3L, 4, 5], records.Select(r => r.Row).Order());
        Assert.All(records, r => Assert.Equal((shard, "row-group-corrupt"), (r.Shard, r.Code)));
        Assert.All(records, r => Assert.StartsWith("row group 1 (rows 3-5): corrupt Parquet data", r.Reason,
            StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_run_rejects_each_row_of_a_row_group_over_the_budget_and_trains_and_exports_the_later_groups()
    {
        // Group 1 holds three captions of 100,000 bytes, 300,000 together, over the budget of 200,000; each other
        // group holds three 8 x 8 PNG images and short captions, far below it.
        string shard = await WriteShardAsync(bigCaptions: true);
        string pipeline = WritePipeline(shard);

        int exitCode = await CommandLine.DispatchAsync(["run", pipeline], CancellationToken.None);

        Assert.Equal(0, exitCode);
        string output = Path.Combine(_work, "out");
        JsonElement summary = JsonDocument.Parse(await File.ReadAllBytesAsync(Path.Combine(output, "summary.json")))
            .RootElement;
        var rejected = summary.GetProperty("rejected_by_reason").EnumerateObject()
            .ToDictionary(p => p.Name, p => p.Value.GetInt64());
        Assert.Equal(new Dictionary<string, long> { ["row-group-too-large"] = 3 }, rejected);
        Assert.Equal(9, summary.GetProperty("exported_rows").GetInt64());

        var records = await ReadRejectsAsync(Directory.GetFiles(Path.Combine(output, "rejects"), "part-*.parquet"));
        Assert.Equal([3L, 4, 5], records.Select(r => r.Row).Order());
        Assert.All(records, r => Assert.Equal((shard, "row-group-too-large"), (r.Shard, r.Code)));
        Assert.All(records, r => Assert.Contains("row group 1 (rows 3-5) is too large", r.Reason,
            StringComparison.Ordinal));

        var exported = new List<string>();
        foreach (string part in Directory.GetFiles(Path.Combine(output, "embeddings"), "embeddings-*.parquet"))
        {
            exported.AddRange((await ParquetSerializer.DeserializeAsync<EmbeddingRow>(part)).Data.Select(r => r.Key));
        }
        Assert.Equal(["k0", "k1", "k10", "k11", "k2", "k6", "k7", "k8", "k9"], exported.Order(StringComparer.Ordinal));
    }

    // Four row groups of three rows: keys k0..k11, an 8 x 8 PNG of its own colour and a short caption per row;
    // with bigCaptions, the rows of group 1 (rows 3-5) have captions of 100,000 bytes.
    private async Task<string> WriteShardAsync(bool bigCaptions)
    {
        string path = Path.Combine(_work, "groups.parquet");
        var groups = Enumerable.Range(0, 4).Select(g => Enumerable.Range(3 * g, 3).Select(row =>
            ((byte[]?)Square(row), (string?)(bigCaptions && g == 1 ? new string('x', 100_000) : $"photo {row}"),
                (int?)row, $"k{row}")).ToArray()).ToList();
        await TestShards.WriteFlatAsync(path, groups);
        return path;
    }

    private static byte[] Square(int row)
    {
        using var bitmap = new SKBitmap(8, 8);
        bitmap.Erase(new SKColor((byte)(20 * row), 100, (byte)(255 - (20 * row))));
        using SKData png = bitmap.Encode(SKEncodedImageFormat.Png, 100);
        return png.ToArray();
    }

    private string WritePipeline(string shard)
    {
        string path = Path.Combine(_work, "groups.yaml");
        File.WriteAllText(path, $"""
            source: {"{"} shards: {shard}, max_row_group_bytes: 200000 {"}"}
            output: out
            images: {"{"} size: 32, workers: 2 {"}"}
            batch: {"{"} size: 2 {"}"}
            model: {"{"} embed_dim: 8, image_widths: [4], text_width: 16, text_layers: 1, text_heads: 2 {"}"}
            train: {"{"} steps: 2, device: cpu {"}"}
            export: {"{"} rows_per_shard: 100 {"}"}
            """);
        return path;
    }

    // Read with Parquet.Net directly: the shard, row, reason and code of every rejects record.
    private static async Task<List<(string Shard, long? Row, string Reason, string? Code)>> ReadRejectsAsync(
        IEnumerable<string> files)
    {
        var records = new List<(string, long?, string, string?)>();
        foreach (string file in files)
        {
            await using ParquetReader reader = await ParquetReader.CreateAsync(file);
            DataField[] fields = reader.Schema.GetDataFields();
            DataField Field(string name) => fields.Single(f => f.Name == name);
            for (int g = 0; g < reader.RowGroupCount; g++)
            {
                ParquetRowGroupReader group = reader.OpenRowGroupReader(g);
                int n = (int)group.RowCount;
                string?[] shards = new string?[n], reasons = new string?[n], codes = new string?[n];
                long?[] rows = new long?[n];
                await group.ReadAsync(Field("shard"), shards.AsMemory());
                await group.ReadAsync<long>(Field("row"), rows.AsMemory());
                await group.ReadAsync(Field("reason"), reasons.AsMemory());
                await group.ReadAsync(Field("code"), codes.AsMemory());
                records.AddRange(Enumerable.Range(0, n).Select(i => (shards[i]!, rows[i], reasons[i]!, codes[i])));
            }
        }
        return records;
    }
}
