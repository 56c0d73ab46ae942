using DataflowContrastive.Ingest;

namespace DataflowContrastive.Tests.Ingest;

public sealed class MixedFolderTests : IDisposable
{
    private readonly string _folder = TestShards.NewFolder();

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    [Fact]
    public async Task A_folder_of_good_bad_and_junk_files_yields_exactly_the_good_rows_and_one_error_per_bad_shard()
    {
        await TestShards.WriteFlatAsync(Path.Combine(_folder, "a-good.parquet"), [
            [(TestShards.Bytes(1, 8), "one", 1, "g1"), (TestShards.Bytes(2, 8), "two", 2, "g2")],
            [(TestShards.Bytes(3, 8), "three", 3, "g3")],
        ]);
        Directory.CreateDirectory(Path.Combine(_folder, "part=1"));
        await TestShards.WriteHuggingFaceAsync(Path.Combine(_folder, "part=1", "b-good.parquet"),
            [(TestShards.Bytes(4, 8), "x.jpg", "four"), (TestShards.Bytes(5, 8), "y.jpg", "five")]);
        await TestShards.WriteFlatAsync(Path.Combine(_folder, "c-empty.parquet"), []);
        File.Copy(TestPaths.Shared("bugs", "parquet", "parquettesting__PARQUET-1481.parquet"),
            Path.Combine(_folder, "d-corrupt-schema.parquet"));
        byte[] good = await File.ReadAllBytesAsync(Path.Combine(_folder, "a-good.parquet"));
        await File.WriteAllBytesAsync(Path.Combine(_folder, "e-truncated.parquet"), good[..(good.Length / 2)]);
        File.Copy(TestPaths.Shared("data", "parquet-real", "laion_meta_test_1000.parquet"),
            Path.Combine(_folder, "f-links.parquet"));
        await File.WriteAllTextAsync(Path.Combine(_folder, "_SUCCESS"), "");
        await File.WriteAllBytesAsync(Path.Combine(_folder, ".a-good.parquet.crc"), good[..12]);
        await File.WriteAllTextAsync(Path.Combine(_folder, "g-notes.parquet"), "not a shard");
        await File.WriteAllTextAsync(Path.Combine(_folder, "README.txt"), "shards here");

        IReadOnlyList<string> shards = ShardDiscovery.Find([_folder], "/");
        var keys = new List<string>();
        var errors = new List<ShardException>();
        var reader = new ShardReader(new IngestOptions());
        foreach (string shard in shards)
        {
            try
            {
                await foreach (RawSample sample in reader.ReadAsync(shard, default))
                {
                    keys.Add(sample.Key);
                }
            }
            catch (ShardException error)
            {
                errors.Add(error);
            }
        }

        Assert.Equal(6, shards.Count);
        Assert.Equal(["g1", "g2", "g3", "b-good.parquet:0", "b-good.parquet:1"], keys);
        Assert.Equal(["d-corrupt-schema.parquet", "e-truncated.parquet", "f-links.parquet"],
            errors.Select(e => Path.GetFileName(e.Shard)));
        Assert.Contains("truncated", errors[1].Reason, StringComparison.Ordinal);
        Assert.Contains("links", errors[2].Reason, StringComparison.Ordinal);
    }
}
