using DataflowContrastive.Ingest;

namespace DataflowContrastive.Tests.Ingest;

public sealed class ShardExceptionCodeTests : IDisposable
{
    private readonly string _folder = TestShards.NewFolder();

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    [Theory]
    [InlineData("bugs/parquet/parquettesting__PARQUET-1481.parquet", ShardException.Corrupt)]
    [InlineData("bugs/parquet/parquettesting__large_string_map.brotli.parquet", ShardException.Columns)]
    [InlineData("bugs/parquet/parquettesting__datapage_v2_empty_datapage.snappy.parquet", ShardException.Columns)]
    [InlineData("data/parquet-real/laion_meta_test_1000.parquet", ShardException.LinksOnly)]
    public async Task A_shared_file_read_as_a_shard_fails_with_the_code_of_its_kind(string file, string code)
    {
        string path = TestPaths.Shared([.. file.Split('/')]);

        ShardException error = await ReadAllAsync(path, new IngestOptions());

        Assert.Equal(code, error.Code);
    }

    [Fact]
    public async Task A_column_mapping_naming_a_map_column_says_it_is_a_map_not_binary()
    {
        string path = TestPaths.Shared("bugs", "parquet", "parquettesting__large_string_map.brotli.parquet");
        var options = new IngestOptions { Columns = new ColumnMapping { Image = "arr" } };

        ShardException error = await ReadAllAsync(path, options);

        Assert.Equal(ShardException.Columns, error.Code);
        Assert.Equal("column 'arr' is a map column, not binary", error.Reason);
    }

    [Fact]
    public async Task A_truncated_shard_is_corrupt_and_a_missing_one_unreadable()
    {
        string good = Path.Combine(_folder, "good.parquet");
        await TestShards.WriteFlatAsync(good, [[(TestShards.Bytes(1, 8), "one", 1, "k")]]);
        byte[] bytes = await File.ReadAllBytesAsync(good);
        string truncated = Path.Combine(_folder, "truncated.parquet");
        await File.WriteAllBytesAsync(truncated, bytes[..(bytes.Length / 2)]);

        Assert.Equal(ShardException.Corrupt, (await ReadAllAsync(truncated, new IngestOptions())).Code);
        Assert.Equal(ShardException.Unreadable,
            (await ReadAllAsync(Path.Combine(_folder, "gone.parquet"), new IngestOptions())).Code);
    }

    [Fact]
    public async Task A_row_group_over_the_budget_is_too_large_for_the_column_reader_and_its_rows_for_the_shard_reader()
    {
        string path = Path.Combine(_folder, "big.parquet");
        await TestShards.WriteFlatAsync(path, [[(TestShards.Bytes(1, 4000), "one", 1, "k")]]);
        var options = new IngestOptions { MaxRowGroupBytes = 1000 };

        ShardException error = await Assert.ThrowsAsync<ShardException>(async () =>
        {
            await foreach (ColumnBatch _ in new ShardColumnReader(options).ReadAsync(path, ["image"], default))
            {
            }
        });
        var codes = new List<string?>();
        await foreach (RawSample row in new ShardReader(options).ReadAsync(path, default))
        {
            codes.Add(row.ProblemCode);
        }

        Assert.Equal(ShardException.TooLarge, error.Code);
        Assert.Equal([RawSample.RowGroupTooLarge], codes);
    }

    private static Task<ShardException> ReadAllAsync(string path, IngestOptions options) =>
        Assert.ThrowsAsync<ShardException>(async () =>
        {
            await foreach (RawSample _ in new ShardReader(options).ReadAsync(path, default))
            {
            }
        });
}
