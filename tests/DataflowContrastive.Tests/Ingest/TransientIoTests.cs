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

    [Fact]
    public async Task A_read_that_fails_once_inside_a_row_group_is_retried_and_the_rows_are_complete()
    {
        string path = Path.Combine(_folder, "s.parquet");
        await TestShards.WriteFlatAsync(path, [
            [(TestShards.Bytes(1, 400), "x", 1, "a")],
            [(TestShards.Bytes(2, 400), "y", 2, "b")],
        ]);
        FlakyStream? flaky = null;

        int rows = await CountAsync(ReaderWith(p => flaky = new FlakyStream(File.OpenRead(p))), path);

        Assert.Equal(2, rows);
        Assert.Equal(1, flaky!.Failures);
    }

    [Fact]
    public async Task Cancellation_is_not_reported_as_a_bad_shard()
    {
        string path = Path.Combine(_folder, "s.parquet");
        await TestShards.WriteFlatAsync(path, [[(TestShards.Bytes(1, 4), "x", 1, "a")]]);
        using var cancelled = new CancellationTokenSource();
        await cancelled.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () =>
        {
            await foreach (RawSample _ in new ShardReader(new IngestOptions()).ReadAsync(path, cancelled.Token))
            {
            }
        });
    }

    /// <summary>Fails the first read that starts in the data region (after the footer has been read).</summary>
    private sealed class FlakyStream(Stream inner) : Stream
    {
        private bool _footerRead;

        public int Failures { get; private set; }

        public override bool CanRead => true;

        public override bool CanSeek => true;

        public override bool CanWrite => false;

        public override long Length => inner.Length;

        public override long Position { get => inner.Position; set => inner.Position = value; }

        public override int Read(byte[] buffer, int offset, int count)
        {
            FailOnce();
            return inner.Read(buffer, offset, count);
        }

        public override async ValueTask<int> ReadAsync(Memory<byte> buffer,
            CancellationToken cancellationToken = default)
        {
            FailOnce();
            return await inner.ReadAsync(buffer, cancellationToken);
        }

        public override Task<int> ReadAsync(byte[] buffer, int offset, int count,
            CancellationToken cancellationToken) =>
            ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

        public override long Seek(long offset, SeekOrigin origin) => inner.Seek(offset, origin);

        public override void Flush()
        {
        }

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        protected override void Dispose(bool disposing)
        {
            if (disposing)
            {
                inner.Dispose();
            }
            base.Dispose(disposing);
        }

        private void FailOnce()
        {
            // The footer sits at the end; the first read near the start after it comes from a column chunk.
            if (inner.Position > inner.Length / 2)
            {
                _footerRead = true;
            }
            else if (_footerRead && Failures == 0 && inner.Position > 4)
            {
                Failures++;
                throw new IOException("the network mount blinked");
            }
        }
    }
}
