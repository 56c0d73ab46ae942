using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using DataflowContrastive.Ingest;

namespace DataflowContrastive.Tests.Ingest;

/// <summary>
/// Each Parquet file of shared/bugs gives the outcome its INDEX.md states. Expected values come from DuckDB
/// (tests/reference/ingest_duckdb.mjs, stored as Fixtures/Ingest/bugfiles_duckdb.json) or from the index itself.
/// </summary>
public sealed class BugFileTests
{
    private static string Bug(string name) => TestPaths.Shared("bugs", "parquet", name);

    private static JsonElement Reference(string file) =>
        JsonDocument.Parse(File.ReadAllBytes(Path.Combine(TestPaths.Fixtures, "Ingest", "bugfiles_duckdb.json")))
            .RootElement.GetProperty(file);

    private static async Task<List<object?>> ReadColumnAsync(string path, string column,
        IngestOptions? options = null)
    {
        var values = new List<object?>();
        var reader = new ShardColumnReader(options ?? new IngestOptions());
        await foreach (ColumnBatch batch in reader.ReadAsync(path, [column], default))
        {
            values.AddRange(batch[column]);
        }
        return values;
    }

    [Fact]
    public async Task An_empty_data_page_v2_gives_one_row_whose_value_is_null()
    {
        string path = Bug("parquettesting__datapage_v2_empty_datapage.snappy.parquet");

        List<object?> values = await ReadColumnAsync(path, "value");

        Assert.Equal([null], values);
    }

    [Fact]
    public async Task Two_one_GiB_strings_are_rejected_as_too_large_from_the_metadata_without_loading_them()
    {
        string path = Bug("parquettesting__large_string_map.brotli.parquet");
        long before = GC.GetTotalAllocatedBytes(precise: true);
        var clock = Stopwatch.StartNew();

        var error = await Assert.ThrowsAsync<ShardException>(() => ReadColumnAsync(path, "arr.key_value.key"));

        Assert.Equal(path, error.Shard);
        Assert.Equal(0, error.Row);
        Assert.Contains("too large", error.Reason, StringComparison.Ordinal);
        Assert.Contains("2 GiB", error.Reason, StringComparison.Ordinal);
        // Loading would take 2 GiB; the margin leaves room for tests running beside this one.
        Assert.True(GC.GetTotalAllocatedBytes(precise: true) - before < 512L << 20, "more than 512 MiB allocated");
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(10));
    }

    [Fact]
    public async Task Two_one_GiB_strings_read_as_a_shard_are_refused_with_a_shard_error_not_a_crash()
    {
        string path = Bug("parquettesting__large_string_map.brotli.parquet");

        var error = await Assert.ThrowsAsync<ShardException>(async () =>
        {
            await foreach (RawSample _ in new ShardReader(new IngestOptions()).ReadAsync(path, default))
            {
            }
        });

        Assert.Equal(path, error.Shard);
    }

    [Fact]
    public async Task Nullable_dictionary_strings_over_several_pages_keep_every_value_on_its_row()
    {
        JsonElement expected = Reference("multi_page_dictionary_with_nulls");

        List<object?> values = await ReadColumnAsync(
            Bug("parquetdotnet__multi_page_dictionary_with_nulls.parquet"), "SampleId");

        Assert.Equal(expected.GetProperty("rows").GetInt32(), values.Count);
        Assert.Equal(expected.GetProperty("nulls").GetInt32(), values.Count(v => v is null));
        Assert.Equal(expected.GetProperty("distinct_values").GetInt32(), values.OfType<string>().Distinct().Count());
        foreach (JsonProperty probe in expected.GetProperty("values").EnumerateObject())
        {
            Assert.Equal(probe.Value.GetString(), values[int.Parse(probe.Name, CultureInfo.InvariantCulture)]);
        }
    }

    [Fact]
    public async Task One_dictionary_page_feeding_several_index_pages_gives_all_39366_rows()
    {
        JsonElement expected = Reference("pyarrow_v23");
        string path = Bug("parquetdotnet__pyarrow_v23.parquet");

        List<object?> alarms = await ReadColumnAsync(path, "NbActiveAlarms");
        List<object?> chattering = await ReadColumnAsync(path, "Chattering");

        Assert.Equal(39366, alarms.Count);
        Assert.Equal(expected.GetProperty("rows").GetInt32(), alarms.Count);
        Assert.Equal(expected.GetProperty("sum_active_alarms").GetInt64(), alarms.Sum(v => (long)v!));
        Assert.Equal(expected.GetProperty("sum_chattering").GetInt64(), chattering.Sum(v => (long)v!));
        foreach (JsonProperty probe in expected.GetProperty("values").EnumerateObject())
        {
            Assert.Equal(probe.Value.GetInt64(), (long)alarms[int.Parse(probe.Name, CultureInfo.InvariantCulture)]!);
        }
    }

    [Fact]
    public async Task A_corrupt_schema_is_a_shard_error_naming_the_file_and_the_column_reader_agrees()
    {
        string path = Bug("parquettesting__PARQUET-1481.parquet");

        var error = await Assert.ThrowsAsync<ShardException>(() => ReadColumnAsync(path, "anything"));

        Assert.Equal(path, error.Shard);
        Assert.Contains("corrupt", error.Reason, StringComparison.Ordinal);
    }
}
