using DataflowContrastive.Ingest;

namespace DataflowContrastive.Tests.Ingest;

public sealed class ShardReaderTests : IDisposable
{
    private readonly string _folder = TestShards.NewFolder();

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    private static async Task<List<RawSample>> ReadAllAsync(string path, IngestOptions? options = null)
    {
        var rows = new List<RawSample>();
        await foreach (RawSample sample in new ShardReader(options ?? new IngestOptions()).ReadAsync(path, default))
        {
            rows.Add(sample);
        }
        return rows;
    }

    [Fact]
    public async Task A_shard_written_with_two_row_groups_reads_back_row_by_row_exactly()
    {
        string path = Path.Combine(_folder, "flat.parquet");
        byte[] a = TestShards.Bytes(1, 10), b = TestShards.Bytes(2, 3), c = TestShards.Bytes(3, 1);
        await TestShards.WriteFlatAsync(path, [
            [(a, "a cat", 7, "k0"), (null, null, null, "k1")],
            [(b, "二匹の犬 🐕", 0, "k2"), (c, "", -3, "k3")],
        ]);

        List<RawSample> rows = await ReadAllAsync(path);

        Assert.Equal(4, rows.Count);
        Assert.Equal(new RawSample(path, 0, "k0", a, "a cat", "7"), rows[0] with { Image = a });
        Assert.Equal(a, rows[0].Image);
        Assert.Equal((1L, "k1"), (rows[1].Row, rows[1].Key));
        Assert.Null(rows[1].Image);
        Assert.Null(rows[1].Caption);
        Assert.Null(rows[1].Label);
        Assert.Equal((2L, "二匹の犬 🐕", "0"), (rows[2].Row, rows[2].Caption, rows[2].Label));
        Assert.Equal(b, rows[2].Image);
        Assert.Equal((3L, "", "-3"), (rows[3].Row, rows[3].Caption, rows[3].Label));
        Assert.Equal(c, rows[3].Image);
        Assert.All(rows, r => Assert.Equal(path, r.Shard));
        Assert.All(rows, r => Assert.Null(r.Problem));
    }

    [Fact]
    public async Task Hugging_Face_image_struct_is_detected_with_its_text_column()
    {
        string path = Path.Combine(_folder, "hf.parquet");
        byte[] one = TestShards.Bytes(4, 20), two = TestShards.Bytes(5, 30);
        await TestShards.WriteHuggingFaceAsync(path, [(one, "one.jpg", "first"), (two, "two.jpg", "second")]);

        List<RawSample> rows = await ReadAllAsync(path);

        Assert.Equal(2, rows.Count);
        Assert.Equal(one, rows[0].Image);
        Assert.Equal(two, rows[1].Image);
        Assert.Equal(["first", "second"], rows.Select(r => r.Caption));
        Assert.Equal(["hf.parquet:0", "hf.parquet:1"], rows.Select(r => r.Key));
        Assert.All(rows, r => Assert.Null(r.Label));
    }

    [Fact]
    public async Task Plain_binary_column_image_bytes_of_a_real_shard_is_detected()
    {
        string path = TestPaths.Shared("data", "parquet-real", "smoosense_images.parquet");

        List<RawSample> rows = await ReadAllAsync(path);

        // The shard's own size column, written by pyarrow beside the bytes, says how long each image is.
        var sizes = new List<object?>();
        var reader = new ShardColumnReader(new IngestOptions());
        await foreach (ColumnBatch batch in reader.ReadAsync(path, ["size"], default))
        {
            sizes.AddRange(batch["size"]);
        }
        Assert.Equal(4, rows.Count);
        Assert.Equal(sizes, rows.Select(r => (object?)(long)r.Image!.Length));
        Assert.All(rows, r => Assert.Equal([0xFF, 0xD8], r.Image![..2]));
        Assert.All(rows, r => Assert.Null(r.Caption));
        Assert.Equal("smoosense_images.parquet:3", rows[3].Key);
    }

    [Fact]
    public async Task A_shard_of_links_is_refused_because_it_holds_links_not_image_bytes()
    {
        string path = TestPaths.Shared("data", "parquet-real", "laion_meta_test_1000.parquet");

        var error = await Assert.ThrowsAsync<ShardException>(() => ReadAllAsync(path));

        Assert.Equal(path, error.Shard);
        Assert.Null(error.Row);
        Assert.Contains("links (column URL), not image bytes", error.Reason, StringComparison.Ordinal);
        Assert.StartsWith($"shard {path}: ", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_zero_row_shard_yields_nothing_and_no_error()
    {
        string path = Path.Combine(_folder, "empty.parquet");
        await TestShards.WriteFlatAsync(path, []);

        Assert.Empty(await ReadAllAsync(path));
    }

    [Fact]
    public async Task A_shard_with_a_corrupt_schema_raises_ShardException_naming_the_file()
    {
        string path = TestPaths.Shared("bugs", "parquet", "parquettesting__PARQUET-1481.parquet");

        var error = await Assert.ThrowsAsync<ShardException>(() => ReadAllAsync(path));

        Assert.Equal(path, error.Shard);
        Assert.Null(error.Row);
        Assert.Contains(path, error.Message, StringComparison.Ordinal);
        Assert.Contains("corrupt", error.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_file_named_parquet_that_is_not_Parquet_is_reported_as_such()
    {
        string path = Path.Combine(_folder, "notes.parquet");
        await File.WriteAllTextAsync(path, "these are notes, not a shard");

        var error = await Assert.ThrowsAsync<ShardException>(() => ReadAllAsync(path));

        Assert.Contains("not a Parquet file", error.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_corrupt_second_row_group_ends_the_shard_for_the_strict_column_reader()
    {
        string path = Path.Combine(_folder, "half.parquet");
        await TestShards.WriteFlatAsync(path, [
            [(TestShards.Bytes(1, 50), "one", 1, "a"), (TestShards.Bytes(2, 50), "two", 2, "b")],
            [(TestShards.Bytes(3, 50), "three", 3, "c")],
        ]);
        await CorruptRowGroupAsync(path, rowGroup: 1);

        var keys = new List<object?>();
        var reader = new ShardColumnReader(new IngestOptions());
        var error = await Assert.ThrowsAsync<ShardException>(async () =>
        {
            await foreach (ColumnBatch batch in reader.ReadAsync(path, ["image", "key"], default))
            {
                keys.AddRange(batch["key"]);
            }
        });

        Assert.Equal(["a", "b"], keys);
        Assert.Equal(2, error.Row);
        Assert.Equal(ShardException.Corrupt, error.Code);
        Assert.Contains("row group 1 (rows 2-2)", error.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_row_group_over_the_budget_is_rejected_row_by_row_before_it_is_loaded()
    {
        string path = Path.Combine(_folder, "big.parquet");
        await TestShards.WriteFlatAsync(path, [[(new byte[4096], "x", 1, "a")]]);

        RawSample row = Assert.Single(await ReadAllAsync(path, new IngestOptions { MaxRowGroupBytes = 1024 }));

        Assert.Equal((0L, RawSample.RowGroupTooLarge), (row.Row, row.ProblemCode));
        Assert.Null(row.Image);
        Assert.StartsWith("row group 0 (rows 0-0) is too large", row.Problem, StringComparison.Ordinal);
        Assert.Contains("(source.max_row_group_bytes)", row.Problem, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_row_group_claiming_more_rows_than_the_budget_can_hold_is_rejected_before_allocation()
    {
        string path = Path.Combine(_folder, "many.parquet");
        var label = new Parquet.Schema.DataField("label", typeof(int), isNullable: false);
        await using (FileStream stream = File.Create(path))
        await using (var writer = await Parquet.ParquetWriter.CreateAsync(new(label), stream, null, false, default))
        using (Parquet.ParquetRowGroupWriter group = writer.CreateRowGroup())
        {
            await group.WriteAsync<int>(label, new int[5000].AsMemory(), null, null, default);
        }

        // 5,000 zeros compress to almost nothing, but 5,000 value slots of at least 32 bytes exceed 100 KiB.
        var reader = new ShardColumnReader(new IngestOptions { MaxRowGroupBytes = 100 * 1024 });
        var error = await Assert.ThrowsAsync<ShardException>(async () =>
        {
            await foreach (ColumnBatch _ in reader.ReadAsync(path, ["label"], default))
            {
            }
        });

        Assert.Contains("claims 5000 rows", error.Reason, StringComparison.Ordinal);
        Assert.Contains("(source.max_row_group_bytes)", error.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_image_over_the_value_budget_is_dropped_with_the_reason_and_the_rest_is_kept()
    {
        string path = Path.Combine(_folder, "values.parquet");
        await TestShards.WriteFlatAsync(path, [[(new byte[2000], "big", 1, "a"), (new byte[10], "small", 2, "b")]]);

        List<RawSample> rows = await ReadAllAsync(path, new IngestOptions { MaxValueBytes = 1000 });

        Assert.Null(rows[0].Image);
        Assert.Contains("value budget (source.max_value_bytes)", rows[0].Problem, StringComparison.Ordinal);
        Assert.Equal("big", rows[0].Caption);
        Assert.Equal(10, rows[1].Image!.Length);
        Assert.Null(rows[1].Problem);
    }

    [Fact]
    public async Task A_column_mapping_names_the_columns_instead_of_detection()
    {
        string path = Path.Combine(_folder, "mapped.parquet");
        await TestShards.WriteFlatAsync(path, [[(TestShards.Bytes(1, 5), "cap", 9, "k")]]);
        var options = new IngestOptions { Columns = new ColumnMapping { Caption = "key", Key = "caption" } };

        RawSample row = Assert.Single(await ReadAllAsync(path, options));

        Assert.Equal(("k", "cap"), (row.Caption, row.Key));
    }

    [Fact]
    public async Task A_column_mapping_naming_a_missing_column_is_a_shard_error()
    {
        string path = Path.Combine(_folder, "mapped.parquet");
        await TestShards.WriteFlatAsync(path, [[(TestShards.Bytes(1, 5), "cap", 9, "k")]]);
        var options = new IngestOptions { Columns = new ColumnMapping { Caption = "alt_text" } };

        var error = await Assert.ThrowsAsync<ShardException>(() => ReadAllAsync(path, options));

        Assert.Contains("'alt_text'", error.Reason, StringComparison.Ordinal);
    }

    // Overwrites the pages of one column chunk of one row group with garbage, leaving the footer intact.
    internal static async Task CorruptRowGroupAsync(string path, int rowGroup, int column = 0)
    {
        long offset, length;
        await using (var reader = await Parquet.ParquetReader.CreateAsync(path))
        {
            Parquet.Meta.ColumnMetaData chunk = reader.Metadata!.RowGroups[rowGroup].Columns[column].MetaData!;
            offset = chunk.DictionaryPageOffset ?? chunk.DataPageOffset;
            length = chunk.TotalCompressedSize;
        }
        await using FileStream stream = File.OpenWrite(path);
        stream.Seek(offset, SeekOrigin.Begin);
        await stream.WriteAsync(Enumerable.Repeat((byte)0xEE, (int)length).ToArray());
    }
}
