using DataflowContrastive.Host.Ledger;

namespace DataflowContrastive.Tests.Host;

public sealed class LedgerFingerprintTests : IDisposable
{
    // FIPS 180-2, appendix B.1: SHA-256 of "abc".
    private const string AbcSha256 = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";

    private static readonly DateTime Written = new(2025, 6, 7, 8, 9, 10, DateTimeKind.Utc);

    private readonly string _work = Directory.CreateTempSubdirectory("dfc-fingerprint-").FullName;

    public void Dispose() => Directory.Delete(_work, recursive: true);

    [Fact]
    public async Task A_fingerprint_is_the_full_path_size_write_time_and_sha256_of_the_file()
    {
        string path = await WriteAsync("shard.parquet", "abc");

        ShardFingerprint fingerprint = await new ShardFingerprinter().FingerprintAsync(
            Path.Combine(_work, ".", "shard.parquet"), default);

        Assert.Equal(new ShardFingerprint(path, 3, new DateTimeOffset(Written), AbcSha256), fingerprint);
    }

    [Fact]
    public async Task An_unchanged_file_is_hashed_once_and_a_changed_one_again()
    {
        string path = await WriteAsync("shard.parquet", "abc");
        var fingerprinter = new ShardFingerprinter();

        await fingerprinter.FingerprintAsync(path, default);
        await fingerprinter.FingerprintAsync(path, default);
        Assert.Equal(1, fingerprinter.FilesHashed);

        await WriteAsync("shard.parquet", "abd");
        File.SetLastWriteTimeUtc(path, Written.AddSeconds(1));
        ShardFingerprint changed = await fingerprinter.FingerprintAsync(path, default);

        Assert.Equal(2, fingerprinter.FilesHashed);
        Assert.NotEqual(AbcSha256, changed.ContentHash);
    }

    [Fact]
    public async Task The_cache_trusts_size_and_write_time_so_a_rewrite_that_keeps_both_keeps_the_old_hash()
    {
        string path = await WriteAsync("shard.parquet", "abc");
        var fingerprinter = new ShardFingerprinter();
        await fingerprinter.FingerprintAsync(path, default);

        await WriteAsync("shard.parquet", "abd");

        Assert.Equal(AbcSha256, (await fingerprinter.FingerprintAsync(path, default)).ContentHash);
        Assert.NotEqual(AbcSha256, (await new ShardFingerprinter().FingerprintAsync(path, default)).ContentHash);
    }

    [Fact]
    public async Task A_missing_file_is_named_in_the_error()
    {
        string path = Path.Combine(_work, "gone.parquet");

        var error = await Assert.ThrowsAsync<FileNotFoundException>(() =>
            new ShardFingerprinter().FingerprintAsync(path, default));

        Assert.Contains(path, error.Message, StringComparison.Ordinal);
    }

    private async Task<string> WriteAsync(string name, string content)
    {
        string path = Path.Combine(_work, name);
        await File.WriteAllTextAsync(path, content);
        File.SetLastWriteTimeUtc(path, Written);
        return path;
    }
}
