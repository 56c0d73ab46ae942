using System.Text.Json;
using DataflowContrastive.Host.Export;
using DataflowContrastive.Host.Pipelines;

namespace DataflowContrastive.Tests.Host;

public sealed class EmbeddingShardWriterTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("dfc-shard-writer-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    [Fact]
    public async Task The_manifest_lists_each_finished_shard_with_its_input_rows_before_the_export_completes()
    {
        var manifest = new ExportManifest(_directory, ExportLayout.Parquet, ExportEmbeddings.Image, 2,
            new ExportedModel(7, "abc", null));
        var writer = new EmbeddingShardWriter(new OneFileLayout(_directory), manifest, rowsPerShard: 3,
            shardPerInput: true);

        // Input a.parquet gives rows 0, 1, 3 (row 2 was rejected) and 4; b.parquet gives row 0.
        long index = 0;
        foreach ((string shard, long row) in new[] { ("a", 0L), ("a", 1L), ("a", 3L), ("a", 4L), ("b", 0L) })
        {
            await writer.AppendAsync(new ExportedSample(index++, $"{shard}{row}", "c", null, shard, row, [1, 0], null),
                CancellationToken.None);
        }

        // Three rows fill shard 0; row a4 ends shard 1 when b begins; b0 is still pending.
        JsonElement root = ReadManifest();
        Assert.False(root.GetProperty("complete").GetBoolean());
        JsonElement[] shards = [.. root.GetProperty("shards").EnumerateArray()];
        Assert.Equal([3L, 1L], shards.Select(s => s.GetProperty("rows").GetInt64()));
        Assert.Equal((0, 2), Range(shards[0]));
        Assert.Equal((3, 3), Range(shards[1]));
        JsonElement source = Assert.Single(shards[0].GetProperty("sources").EnumerateArray());
        Assert.Equal(("a", 0L, 3L, 3L), (source.GetProperty("shard").GetString(), source.GetProperty("first_row")
            .GetInt64(), source.GetProperty("last_row").GetInt64(), source.GetProperty("rows").GetInt64()));

        await writer.FlushAsync(CancellationToken.None);
        await manifest.CompleteAsync(CancellationToken.None);

        root = ReadManifest();
        Assert.True(root.GetProperty("complete").GetBoolean());
        Assert.Equal(5, root.GetProperty("rows").GetInt64());
        Assert.Equal(["shard-0", "shard-1", "shard-2"], writer.Shards.Select(Path.GetFileName));
        Assert.Empty(Directory.GetFiles(_directory, "*.tmp"));
    }

    private JsonElement ReadManifest()
    {
        using JsonDocument document = JsonDocument.Parse(File.ReadAllBytes(Path.Combine(_directory, "manifest.json")));
        return document.RootElement.Clone();
    }

    private static (long First, long Last) Range(JsonElement shard) =>
        (shard.GetProperty("first_index").GetInt64(), shard.GetProperty("last_index").GetInt64());

    /// <summary>Writes each shard as one small file holding its keys.</summary>
    private sealed class OneFileLayout(string directory) : IEmbeddingLayout
    {
        public async Task<IReadOnlyList<string>> WriteShardAsync(int number, IReadOnlyList<ExportedSample> rows,
            CancellationToken cancellationToken)
        {
            await File.WriteAllLinesAsync(Path.Combine(directory, $"shard-{number}"), rows.Select(r => r.Key),
                cancellationToken);
            return [$"shard-{number}"];
        }
    }
}
