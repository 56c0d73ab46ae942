using System.Text;
using DataflowContrastive.Ingest;

namespace DataflowContrastive.Tests.Ingest;

/// <summary>
/// Shards written by DuckDB (tests/reference/ingest_duckdb.mjs) with snappy, zstd and gzip, data pages v1 and v2
/// and dictionary encoding read exactly as the rows the script's formulas define, repeated here.
/// </summary>
public sealed class DuckDbShardTests
{
    private const int Rows = 3000;

    private static string Fixture(string name) => Path.Combine(TestPaths.Fixtures, "Ingest", name);

    private static byte[]? Image(int i) => i % 13 == 0 ? null : Encoding.UTF8.GetBytes($"img-{i}");

    private static string? Caption(int i) => i % 7 == 0 ? null : $"caption {i % 50} 猫 😴";

    private static string? Label(int i) =>
        i % 11 == 0 ? null : (i % 10).ToString(System.Globalization.CultureInfo.InvariantCulture);

    private static async Task<List<RawSample>> ReadAllAsync(string path)
    {
        var rows = new List<RawSample>();
        await foreach (RawSample sample in new ShardReader(new IngestOptions()).ReadAsync(path, default))
        {
            rows.Add(sample);
        }
        return rows;
    }

    [Theory]
    [InlineData("duckdb_snappy_v1.parquet")]
    [InlineData("duckdb_snappy_v2.parquet")]
    [InlineData("duckdb_zstd_v1.parquet")]
    [InlineData("duckdb_zstd_v2.parquet")]
    [InlineData("duckdb_gzip_v1.parquet")]
    [InlineData("duckdb_gzip_v2.parquet")]
    public async Task A_DuckDB_shard_reads_as_the_rows_it_was_written_from(string name)
    {
        List<RawSample> rows = await ReadAllAsync(Fixture(name));

        Assert.Equal(Rows, rows.Count);
        for (int i = 0; i < Rows; i++)
        {
            Assert.Equal((i, $"k{i}", Caption(i), Label(i)), ((int)rows[i].Row, rows[i].Key, rows[i].Caption,
                rows[i].Label));
            Assert.Equal(Image(i), rows[i].Image);
        }
    }

    [Fact]
    public async Task A_DuckDB_shard_in_the_Hugging_Face_layout_reads_with_its_struct_image_and_text()
    {
        List<RawSample> rows = await ReadAllAsync(Fixture("duckdb_hf_zstd_v2.parquet"));

        Assert.Equal(Rows, rows.Count);
        for (int i = 0; i < Rows; i++)
        {
            Assert.Equal(($"duckdb_hf_zstd_v2.parquet:{i}", Caption(i)), (rows[i].Key, rows[i].Caption));
            Assert.Equal(Encoding.UTF8.GetBytes($"img-{i}"), rows[i].Image);
        }
    }

    [Fact]
    public async Task The_DuckDB_shards_span_two_row_groups_so_the_row_numbers_continue_across_them()
    {
        var firstRows = new List<long>();
        var reader = new ShardColumnReader(new IngestOptions());
        await foreach (ColumnBatch batch in reader.ReadAsync(Fixture("duckdb_zstd_v2.parquet"), ["key"], default))
        {
            firstRows.Add(batch.FirstRow);
        }

        Assert.Equal([0L, 2048L], firstRows);
    }
}
