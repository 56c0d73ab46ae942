using DataflowContrastive.Ingest;

namespace DataflowContrastive.Tests.Ingest;

public sealed class LabelMapTests : IDisposable
{
    private readonly string _folder = TestShards.NewFolder();

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    [Fact]
    public void Integer_labels_keep_their_value_as_class_id()
    {
        LabelMap map = LabelMap.Create(["7", "0", "3", "7", null]);

        Assert.True(map.IntegerLabels);
        Assert.Equal(8, map.ClassCount);
        Assert.Equal(["0", "3", "7"], map.Labels);
        Assert.True(map.TryGetId("7", out int seven));
        Assert.Equal(7, seven);
        Assert.True(map.TryGetId("3", out int three));
        Assert.Equal(3, three);
    }

    [Fact]
    public void String_labels_get_ids_in_ordinal_order_whatever_order_they_come_in()
    {
        LabelMap first = LabelMap.Create(["dog", "cat", "Zebra", "dog", "ant"]);
        LabelMap second = LabelMap.Create(["ant", "Zebra", "cat", "dog"]);

        // Ordinal: upper case sorts before lower case.
        Assert.Equal(["Zebra", "ant", "cat", "dog"], first.Labels);
        Assert.Equal(first.Labels, second.Labels);
        Assert.False(first.IntegerLabels);
        Assert.Equal(4, first.ClassCount);
        Assert.True(first.TryGetId("cat", out int cat));
        Assert.Equal(2, cat);
        Assert.False(first.TryGetId("cow", out _));
    }

    [Theory]
    [InlineData("07")]
    [InlineData("-1")]
    [InlineData("+3")]
    [InlineData("2147483647")]
    [InlineData("x")]
    public void One_label_that_is_not_a_plain_integer_makes_all_labels_text(string odd)
    {
        LabelMap map = LabelMap.Create(["2", "10", odd]);

        Assert.False(map.IntegerLabels);
        Assert.Equal(new[] { "2", "10", odd }.Order(StringComparer.Ordinal), map.Labels);
        Assert.True(map.TryGetId("10", out int ten));
        Assert.Equal(map.Labels.ToList().IndexOf("10"), ten);
    }

    [Fact]
    public void No_labels_give_an_empty_map()
    {
        LabelMap map = LabelMap.Create([null, null]);

        Assert.Equal(0, map.ClassCount);
        Assert.Empty(map.Labels);
    }

    [Fact]
    public async Task Labels_read_from_shards_skip_bad_shards_and_do_not_depend_on_how_rows_are_spread()
    {
        string a = Path.Combine(_folder, "a.parquet");
        string b = Path.Combine(_folder, "b.parquet");
        await TestShards.WriteFlatAsync(a, [[(TestShards.Bytes(1, 4), "x", 5, "k1"), (null, "y", 2, "k2")]]);
        await TestShards.WriteFlatAsync(b, [[(TestShards.Bytes(2, 4), "z", null, "k3")],
            [(TestShards.Bytes(3, 4), "w", 9, "k4")]]);
        string bad = Path.Combine(_folder, "c.parquet");
        await File.WriteAllBytesAsync(bad, "PAR1 not really"u8.ToArray());
        var reader = new ShardReader(new IngestOptions());

        LabelMap forward = await LabelMap.FromShardsAsync(reader, [a, bad, b], default);
        LabelMap backward = await LabelMap.FromShardsAsync(reader, [b, a], default);

        Assert.Equal(["2", "5", "9"], forward.Labels);
        Assert.Equal(forward.Labels, backward.Labels);
        Assert.Equal(10, forward.ClassCount);
    }

    [Fact]
    public async Task A_shard_without_a_label_column_yields_no_labels()
    {
        string path = Path.Combine(_folder, "hf.parquet");
        await TestShards.WriteHuggingFaceAsync(path, [(TestShards.Bytes(1, 4), "a.jpg", "a caption")]);

        var labels = new List<string?>();
        await foreach (string? label in new ShardReader(new IngestOptions()).ReadLabelsAsync(path, default))
        {
            labels.Add(label);
        }

        Assert.Empty(labels);
    }
}
