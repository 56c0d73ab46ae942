using DataflowContrastive.Ingest;
using Parquet;

namespace DataflowContrastive.Tests.Ingest;

public sealed class ShardWriterTests : IDisposable
{
    private readonly string _folder = TestShards.NewFolder();

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    private static PackItem Item(int i, string? label = null) =>
        new($"k{i}", TestShards.Bytes(i, 10 + i), $"caption {i}", label, $"img{i}.jpg");

    [Fact]
    public async Task Shards_are_cut_at_the_row_limit_even_when_a_row_group_would_be_larger()
    {
        var writer = new ShardWriter(_folder, new ShardWriterOptions
        {
            RowsPerShard = 2, RowGroupSize = 3, Prefix = "p",
        }, _ => (3, 4));

        IReadOnlyList<string> shards = await writer.WriteAsync(Enumerable.Range(0, 5).Select(i => Item(i)), default);

        Assert.Equal(["p-00000.parquet", "p-00001.parquet", "p-00002.parquet"], shards.Select(Path.GetFileName));
        Assert.Equal(shards.Order(StringComparer.Ordinal), Directory.GetFiles(_folder).Order(StringComparer.Ordinal));
        var rowGroupSizes = new List<long[]>();
        foreach (string shard in shards)
        {
            await using ParquetReader reader = await ParquetReader.CreateAsync(shard);
            rowGroupSizes.Add([.. reader.Metadata!.RowGroups.Select(g => g.NumRows)]);
        }
        Assert.Equal([[2L], [2L], [1L]], rowGroupSizes);
    }

    [Fact]
    public async Task The_layout_is_the_Hugging_Face_image_struct_with_caption_key_and_size()
    {
        var writer = new ShardWriter(_folder, new ShardWriterOptions(), _ => (3, 4));

        IReadOnlyList<string> shards = await writer.WriteAsync([Item(0, "cat"), Item(1)], default);

        await using ParquetReader reader = await ParquetReader.CreateAsync(Assert.Single(shards));
        Assert.Equal(["image.bytes", "image.path", "caption", "label", "key", "width", "height"],
            reader.Schema.GetDataFields().Select(ShardColumnReader.DottedPath));
        Assert.Equal(2, reader.Metadata!.NumRows);
    }

    [Fact]
    public async Task Without_any_label_in_the_first_row_group_there_is_no_label_column()
    {
        var writer = new ShardWriter(_folder, new ShardWriterOptions(), _ => (3, 4));

        IReadOnlyList<string> shards = await writer.WriteAsync([Item(0), Item(1)], default);

        await using ParquetReader reader = await ParquetReader.CreateAsync(Assert.Single(shards));
        Assert.DoesNotContain("label", reader.Schema.GetDataFields().Select(f => f.Name));
    }

    [Fact]
    public async Task An_image_that_cannot_be_measured_is_named_and_leaves_no_partial_shard()
    {
        var writer = new ShardWriter(_folder, new ShardWriterOptions { RowGroupSize = 1 },
            bytes => bytes.Length == 12 ? throw new FormatException("not an image") : (1, 1));

        var error = await Assert.ThrowsAsync<InvalidDataException>(
            () => writer.WriteAsync(Enumerable.Range(0, 3).Select(i => Item(i)), default));

        Assert.Contains("'k2' (img2.jpg)", error.Message, StringComparison.Ordinal);
        Assert.Empty(Directory.GetFiles(_folder));
    }

    [Fact]
    public void A_prefix_that_is_not_a_plain_file_name_is_refused()
    {
        var error = Assert.Throws<ArgumentException>(
            () => new ShardWriter(_folder, new ShardWriterOptions { Prefix = "a/b" }, _ => (1, 1)));

        Assert.Equal(nameof(ShardWriterOptions.Prefix), error.ParamName);
    }
}
