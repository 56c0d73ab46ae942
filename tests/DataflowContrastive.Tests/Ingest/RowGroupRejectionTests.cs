using DataflowContrastive.Ingest;

namespace DataflowContrastive.Tests.Ingest;

/// <summary>
/// A bad row group costs its own rows only: each is yielded as a problem row naming the row group, and the row
/// groups after it are read as if nothing had happened.
/// </summary>
public sealed class RowGroupRejectionTests : IDisposable
{
    private readonly string _folder = TestShards.NewFolder();

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    // Four row groups of three rows: keys k0..k11, label = row number, 50-byte images; group 1 (rows 3-5) gets
    // 4,000-byte images when big is set.
    private async Task<string> WriteFourGroupsAsync(string name, bool big)
    {
        string path = Path.Combine(_folder, name);
        var groups = Enumerable.Range(0, 4).Select(g => Enumerable.Range(3 * g, 3).Select(row =>
            ((byte[]?)TestShards.Bytes(row, big && g == 1 ? 4000 : 50), (string?)$"caption {row}", (int?)row,
                $"k{row}")).ToArray()).ToList();
        await TestShards.WriteFlatAsync(path, groups);
        return path;
    }

    private static async Task<List<RawSample>> ReadAllAsync(string path, IngestOptions options)
    {
        var rows = new List<RawSample>();
        await foreach (RawSample sample in new ShardReader(options).ReadAsync(path, default))
        {
            rows.Add(sample);
        }
        return rows;
    }

    [Fact]
    public async Task A_middle_row_group_over_the_budget_rejects_its_three_rows_and_the_later_groups_are_read()
    {
        string path = await WriteFourGroupsAsync("budget.parquet", big: true);

        // Group 1's images alone hold 3 x 4,000 bytes, over 5,000; the others hold about 150 bytes of images.
        List<RawSample> rows = await ReadAllAsync(path, new IngestOptions { MaxRowGroupBytes = 5000 });

        Assert.Equal(Enumerable.Range(0, 12).Select(i => (long)i), rows.Select(r => r.Row));
        AssertGood(rows, [0, 1, 2, 6, 7, 8, 9, 10, 11]);
        foreach (RawSample bad in rows[3..6])
        {
            Assert.Equal(RawSample.RowGroupTooLarge, bad.ProblemCode);
            Assert.StartsWith("row group 1 (rows 3-5) is too large", bad.Problem, StringComparison.Ordinal);
            Assert.Contains("over the 4.88 KiB budget (source.max_row_group_bytes)", bad.Problem,
                StringComparison.Ordinal);
            AssertEmptied(bad, path);
        }
    }

    [Fact]
    public async Task A_corrupt_caption_page_is_named_by_its_column_in_the_reason()
    {
        string path = await WriteFourGroupsAsync("corrupt-caption.parquet", big: false);
        await ShardReaderTests.CorruptRowGroupAsync(path, rowGroup: 1, column: 1);

        List<RawSample> rows = await ReadAllAsync(path, new IngestOptions());

        AssertGood(rows, [0, 1, 2, 6, 7, 8, 9, 10, 11]);
        Assert.All(rows[3..6], bad => Assert.StartsWith(
            "row group 1 (rows 3-5): corrupt Parquet data in column caption: its pages do not decode (", bad.Problem,
            StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_middle_row_group_with_a_corrupt_page_rejects_its_three_rows_and_the_later_groups_are_read()
    {
        string path = await WriteFourGroupsAsync("corrupt.parquet", big: false);
        await ShardReaderTests.CorruptRowGroupAsync(path, rowGroup: 1);

        List<RawSample> rows = await ReadAllAsync(path, new IngestOptions());

        Assert.Equal(Enumerable.Range(0, 12).Select(i => (long)i), rows.Select(r => r.Row));
        AssertGood(rows, [0, 1, 2, 6, 7, 8, 9, 10, 11]);
        foreach (RawSample bad in rows[3..6])
        {
            Assert.Equal(RawSample.RowGroupCorrupt, bad.ProblemCode);
            Assert.StartsWith("row group 1 (rows 3-5): corrupt Parquet data", bad.Problem, StringComparison.Ordinal);
            AssertEmptied(bad, path);
        }
    }

    [Fact]
    public async Task Labels_of_a_row_group_whose_label_pages_are_corrupt_read_as_null_and_the_rest_are_kept()
    {
        string path = await WriteFourGroupsAsync("labels.parquet", big: false);
        await ShardReaderTests.CorruptRowGroupAsync(path, rowGroup: 2, column: 2);

        var labels = new List<string?>();
        await foreach (string? label in new ShardReader(new IngestOptions()).ReadLabelsAsync(path, default))
        {
            labels.Add(label);
        }

        Assert.Equal(["0", "1", "2", "3", "4", "5", null, null, null, "9", "10", "11"], labels);
    }

    [Fact]
    public async Task A_row_group_claiming_more_rows_than_one_batch_is_rejected_in_batches_with_every_row_numbered()
    {
        // Group 0: 5,000 rows of null image and caption; their value slots (4 columns of at least 32 bytes each)
        // take 640,000 bytes, over 100 KiB, though the stored bytes are fewer. Group 1: one row.
        string path = Path.Combine(_folder, "many.parquet");
        var many = Enumerable.Range(0, 5000).Select(i => ((byte[]?)null, (string?)null, (int?)null, $"m{i}"));
        await TestShards.WriteFlatAsync(path, [[.. many], [(TestShards.Bytes(1, 10), "last", 1, "last")]]);

        List<RawSample> rows = await ReadAllAsync(path, new IngestOptions { MaxRowGroupBytes = 100 * 1024 });

        Assert.Equal(5001, rows.Count);
        Assert.Equal(Enumerable.Range(0, 5001).Select(i => (long)i), rows.Select(r => r.Row));
        Assert.All(rows[..5000], r => Assert.Equal(RawSample.RowGroupTooLarge, r.ProblemCode));
        Assert.All(rows[..5000], r => Assert.StartsWith("row group 0 (rows 0-4999) is too large: it claims 5000 rows",
            r.Problem, StringComparison.Ordinal));
        Assert.Equal(("many.parquet:4999", "last", "last"), (rows[4999].Key, rows[5000].Key, rows[5000].Caption));
        Assert.Null(rows[5000].Problem);
    }

    [Fact]
    public async Task A_cancelled_read_stops_at_a_bad_row_group_instead_of_rejecting_its_rows()
    {
        string path = await WriteFourGroupsAsync("cancel.parquet", big: true);
        using var stop = new CancellationTokenSource();
        var rows = new List<RawSample>();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () =>
        {
            await foreach (RawSample row in new ShardReader(new IngestOptions { MaxRowGroupBytes = 5000 })
                .ReadAsync(path, stop.Token))
            {
                rows.Add(row);
                if (row.Row == 2)
                {
                    await stop.CancelAsync();
                }
            }
        });

        Assert.Equal([0L, 1, 2], rows.Select(r => r.Row));
    }

    [Fact]
    public void A_problem_row_without_a_code_is_row_unreadable_and_a_row_without_a_problem_has_no_code()
    {
        var row = new RawSample("s.parquet", 0, "k", null, null, null);

        Assert.Null((row with { ProblemCode = RawSample.RowGroupCorrupt }).ProblemCode);
        Assert.Equal(RawSample.RowUnreadable, (row with { Problem = "too big" }).ProblemCode);
        Assert.Equal(RawSample.RowGroupCorrupt,
            (row with { Problem = "bad pages", ProblemCode = RawSample.RowGroupCorrupt }).ProblemCode);
    }

    // Rows read in full: their key, caption, label and image are those written for their row number.
    private static void AssertGood(List<RawSample> rows, int[] numbers)
    {
        foreach (int i in numbers)
        {
            RawSample row = rows[i];
            Assert.Null(row.Problem);
            Assert.Null(row.ProblemCode);
            Assert.Equal(($"k{i}", $"caption {i}", $"{i}"), (row.Key, row.Caption, row.Label));
            Assert.Equal(TestShards.Bytes(i, 50), row.Image);
        }
    }

    // A row of a row group that was not read: nothing of it is known but its place in the file.
    private static void AssertEmptied(RawSample row, string path)
    {
        Assert.Equal((null, null, null), (row.Image, row.Caption, row.Label));
        Assert.Equal($"{Path.GetFileName(path)}:{row.Row}", row.Key);
        Assert.Equal(path, row.Shard);
    }
}
