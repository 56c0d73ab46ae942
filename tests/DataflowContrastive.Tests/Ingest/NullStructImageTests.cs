using DataflowContrastive.Ingest;

namespace DataflowContrastive.Tests.Ingest;

public sealed class NullStructImageTests : IDisposable
{
    private readonly string _folder = TestShards.NewFolder();

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    [Fact]
    public async Task A_null_bytes_field_in_the_image_struct_is_a_null_image_and_leaves_the_other_rows_alone()
    {
        // Two shards read one after the other by the same reader: the second's null must not pick up the first's bytes.
        string first = Path.Combine(_folder, "a.parquet");
        string second = Path.Combine(_folder, "b.parquet");
        await TestShards.WriteHuggingFaceAsync(first, [(TestShards.Bytes(1, 50), "a0.png", "a0"),
            (TestShards.Bytes(2, 60), "a1.png", "a1"), (TestShards.Bytes(3, 70), "a2.png", "a2")]);
        await TestShards.WriteHuggingFaceAsync(second, [(TestShards.Bytes(4, 10), "b0.png", "b0"),
            (null!, "b1.png", "b1"), (TestShards.Bytes(5, 20), "b2.png", "b2"), (null!, "b3.png", "b3")]);
        var reader = new ShardReader(new IngestOptions());

        var rows = new List<RawSample>();
        foreach (string shard in new[] { first, second })
        {
            await foreach (RawSample sample in reader.ReadAsync(shard, default))
            {
                rows.Add(sample);
            }
        }

        Assert.Equal(["a0", "a1", "a2", "b0", "b1", "b2", "b3"], rows.Select(r => r.Caption));
        Assert.Equal(TestShards.Bytes(4, 10), rows[3].Image);
        Assert.Null(rows[4].Image);
        Assert.Equal(TestShards.Bytes(5, 20), rows[5].Image);
        Assert.Null(rows[6].Image);
    }
}
