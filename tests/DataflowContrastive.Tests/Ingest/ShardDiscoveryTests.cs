using DataflowContrastive.Ingest;

namespace DataflowContrastive.Tests.Ingest;

public sealed class ShardDiscoveryTests : IDisposable
{
    private readonly string _folder = TestShards.NewFolder();

    public ShardDiscoveryTests()
    {
        byte[] parquetish = [.. "PAR1"u8, 1, 2, 3, .. "PAR1"u8];
        Write("b.parquet", parquetish);
        Write("a.parquet", parquetish);
        Write(Path.Combine("sub", "c.parquet"), parquetish);
        Write(Path.Combine("sub", "deeper", "d.pq"), parquetish);
        Write(".a.parquet.crc", parquetish);
        Write("part-0.parquet.crc", parquetish);
        Write("_SUCCESS", parquetish);
        Write(".hidden.parquet", parquetish);
        Write("fake.parquet", "not parquet at all"u8.ToArray());
        Write("readme.txt", "hello"u8.ToArray());
        Write("tiny.parquet", "PA"u8.ToArray());
        Write("_metadata", parquetish);
        Write(Path.Combine("_temporary", "0", "part-1.parquet"), parquetish);
        Write(Path.Combine(".ipynb_checkpoints", "e.parquet"), parquetish);
    }

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    private void Write(string relative, byte[] bytes)
    {
        string path = Path.Combine(_folder, relative);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllBytes(path, bytes);
    }

    private string Full(string relative) => Path.Combine(_folder, relative);

    [Fact]
    public void A_folder_is_searched_recursively_and_only_visible_real_shards_are_kept()
    {
        IReadOnlyList<string> found = ShardDiscovery.Find([_folder], "/");

        Assert.Equal([Full("a.parquet"), Full("b.parquet"), Full("sub/c.parquet"), Full("sub/deeper/d.pq")], found);
    }

    [Fact]
    public void Globs_match_with_double_star_and_question_mark_relative_to_the_base_folder()
    {
        Assert.Equal([Full("sub/c.parquet")], ShardDiscovery.Find(["sub/*.parquet"], _folder));
        Assert.Equal([Full("a.parquet"), Full("b.parquet"), Full("sub/c.parquet")],
            ShardDiscovery.Find(["**/*.parquet"], _folder));
        Assert.Equal([Full("a.parquet"), Full("b.parquet")], ShardDiscovery.Find(["?.parquet"], _folder));
    }

    [Fact]
    public void Files_named_directly_are_kept_once_and_sorted_ordinally()
    {
        IReadOnlyList<string> found = ShardDiscovery.Find(
            ["b.parquet", Full("a.parquet"), "./b.parquet", "*.parquet", "fake.parquet", "missing.parquet"], _folder);

        Assert.Equal([Full("a.parquet"), Full("b.parquet")], found);
    }

    [Fact]
    public void A_blank_entry_is_a_caller_mistake()
    {
        Assert.Throws<ArgumentException>(() => ShardDiscovery.Find([" "], _folder));
    }
}
