using DataflowContrastive.Ingest;
using Parquet;
using Parquet.Schema;

namespace DataflowContrastive.Tests.Ingest;

public sealed class RejectsWriterTests : IDisposable
{
    private readonly string _folder = TestShards.NewFolder();

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    [Fact]
    public async Task Rejections_round_trip_through_the_parquet_file_in_several_row_groups()
    {
        string path = Path.Combine(_folder, "out", "rejects.parquet");
        Rejection[] expected =
        [
            new("/s/a.parquet", 3, "k3", "truncated JPEG", [1, 2, 3]),
            new("/s/a.parquet", null, null, "corrupt footer", null),
            new("/s/b.parquet", 0, "ключ", "caption is empty", []),
        ];

        await using (var writer = new RejectsWriter(path, rowGroupSize: 2))
        {
            foreach (Rejection rejection in expected)
            {
                await writer.AppendAsync(rejection, default);
            }
            Assert.False(File.Exists(path));
        }

        Assert.False(File.Exists(path + ".tmp"));
        Assert.Equal(expected, await ReadBackAsync(path, expectedRowGroups: 2), RejectionComparer.Instance);
    }

    [Fact]
    public async Task Concurrent_appends_all_arrive()
    {
        string path = Path.Combine(_folder, "rejects.parquet");
        await using (var writer = new RejectsWriter(path, rowGroupSize: 7))
        {
            await Parallel.ForAsync(0, 100, async (i, ct) =>
                await writer.AppendAsync(new Rejection("s", i, $"k{i}", "bad", null), ct));
        }

        List<Rejection> back = await ReadBackAsync(path, expectedRowGroups: 15);
        Assert.Equal(Enumerable.Range(0, 100).Select(i => (long?)i), back.Select(r => r.Row).Order());
    }

    [Fact]
    public async Task A_writer_with_nothing_rejected_leaves_an_empty_readable_file()
    {
        string path = Path.Combine(_folder, "none.parquet");
        await using (new RejectsWriter(path))
        {
        }

        Assert.Empty(await ReadBackAsync(path, expectedRowGroups: 0));
    }

    // Reads with Parquet.Net directly, so the check does not rest on our own reader.
    private static async Task<List<Rejection>> ReadBackAsync(string path, int expectedRowGroups)
    {
        await using ParquetReader reader = await ParquetReader.CreateAsync(path);
        Assert.Equal(expectedRowGroups, reader.RowGroupCount);
        Assert.Equal(["shard", "row", "key", "reason", "bytes", "code"],
            reader.Schema.GetDataFields().Select(f => f.Name));
        var rows = new List<Rejection>();
        for (int g = 0; g < reader.RowGroupCount; g++)
        {
            ParquetRowGroupReader group = reader.OpenRowGroupReader(g);
            int n = (int)group.RowCount;
            DataField[] fields = reader.Schema.GetDataFields();
            string?[] shards = new string?[n], keys = new string?[n], reasons = new string?[n], codes = new string?[n];
            long?[] rowNumbers = new long?[n];
            byte[]?[] bytes = new byte[]?[n];
            await group.ReadAsync(fields[0], shards.AsMemory());
            await group.ReadAsync<long>(fields[1], rowNumbers.AsMemory());
            await group.ReadAsync(fields[2], keys.AsMemory());
            await group.ReadAsync(fields[3], reasons.AsMemory());
            await group.ReadAsync(fields[4], bytes.AsMemory());
            await group.ReadAsync(fields[5], codes.AsMemory());
            rows.AddRange(Enumerable.Range(0, n).Select(i =>
                new Rejection(shards[i]!, rowNumbers[i], keys[i], reasons[i]!, bytes[i]) { Code = codes[i] }));
        }
        return rows;
    }

    private sealed class RejectionComparer : IEqualityComparer<Rejection>
    {
        public static readonly RejectionComparer Instance = new();

        public bool Equals(Rejection? x, Rejection? y) =>
            x is not null && y is not null && x with { Bytes = null } == y with { Bytes = null }
            && (x.Bytes ?? []).SequenceEqual(y.Bytes ?? []) && (x.Bytes is null) == (y.Bytes is null);

        public int GetHashCode(Rejection obj) => obj.Reason.GetHashCode(StringComparison.Ordinal);
    }
}
