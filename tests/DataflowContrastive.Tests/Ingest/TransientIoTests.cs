using DataflowContrastive.Ingest;

namespace DataflowContrastive.Tests.Ingest;

public sealed class TransientIoTests : IDisposable
{
    private readonly string _folder = TestShards.NewFolder();

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    private static ShardReader ReaderWith(Func<string, Stream> open, int retries = 3) =>
        new(new IngestOptions { RetryCount = retries, RetryBaseDelay = TimeSpan.FromMilliseconds(1) },
            new ShardColumnReader(
                new IngestOptions { RetryCount = retries, RetryBaseDelay = TimeSpan.FromMilliseconds(1) },
                open, TimeProvider.System));

    private static async Task<int> CountAsync(ShardReader reader, string path)
    {
        int count = 0;
        await foreach (RawSample _ in reader.ReadAsync(path, default))
        {
            count++;
        }
        return count;
    }

    [Fact]
    public async Task A_briefly_locked_file_is_retried_until_it_opens()
    {
        string path = Path.Combine(_folder, "s.parquet");
        await TestShards.WriteFlatAsync(path, [[(TestShards.Bytes(1, 4), "x", 1, "a")]]);
        int attempts = 0;

        int rows = await CountAsync(ReaderWith(p => ++attempts <= 2
            ? throw new UnauthorizedAccessException("locked")
            : File.OpenRead(p)), path);

        Assert.Equal((1, 3), (rows, attempts));
    }

    [Fact]
    public async Task A_failure_that_persists_becomes_a_ShardException_after_all_attempts()
    {
        string path = Path.Combine(_folder, "s.parquet");
        int attempts = 0;

        var error = await Assert.ThrowsAsync<ShardException>(() => CountAsync(ReaderWith(_ =>
        {
            attempts++;
            throw new IOException("device not ready");
        }, retries: 2), path));

        Assert.Equal(3, attempts);
        Assert.Contains("3 attempts", error.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Corrupt_data_and_missing_files_are_never_retried()
    {
        string junk = Path.Combine(_folder, "junk.parquet");
        await File.WriteAllTextAsync(junk, "PAR1 short and wrong PAR1");
        int attempts = 0;
        ShardReader reader = ReaderWith(p =>
        {
            attempts++;
            return File.OpenRead(p);
        });

        await Assert.ThrowsAsync<ShardException>(() => CountAsync(reader, junk));
        await Assert.ThrowsAsync<ShardException>(() => CountAsync(reader, Path.Combine(_folder, "gone.parquet")));
        await Assert.ThrowsAsync<ShardException>(() => CountAsync(reader,
            TestPaths.Shared("bugs", "parquet", "parquettesting__PARQUET-1481.parquet")));

        Assert.Equal(3, attempts);
    }
}
