using System.Diagnostics;
using DataflowContrastive.Host.Serving;

namespace DataflowContrastive.Tests.Host;

/// <summary>
/// Publishing into one export folder's <c>index.json</c> from many writers at once: each publication holds the
/// folder's index lock, so every entry survives. The lock is the operating system's, so a lock taken by another
/// program (the <c>flock</c> command) holds publications back too.
/// </summary>
public sealed class EmbeddingIndexTests : IDisposable
{
    private static readonly DateTimeOffset At = new(2026, 5, 6, 7, 8, 9, TimeSpan.Zero);

    private readonly string _work = Directory.CreateTempSubdirectory("dfc-index-").FullName;

    public void Dispose() => Directory.Delete(_work, recursive: true);

    private string LockFile => Path.Combine(_work, EmbeddingIndex.LockFileName);

    [Fact]
    public async Task Many_concurrent_publishers_lose_no_entry()
    {
        const int Threads = 8, EachPublishes = 12;

        // Threads of their own, released together, so that publications overlap however the pool schedules tasks.
        using var start = new Barrier(Threads);
        Thread[] threads = [.. Enumerable.Range(0, Threads).Select(t => new Thread(() =>
        {
            start.SignalAndWait();
            for (int i = 0; i < EachPublishes; i++)
            {
                EmbeddingIndex.PublishAsync(_work, Entry((t * EachPublishes) + i), CancellationToken.None)
                    .GetAwaiter().GetResult();
            }
        }))];
        Array.ForEach(threads, t => t.Start());
        Array.ForEach(threads, t => t.Join());

        IReadOnlyList<IndexEntry> entries = await EmbeddingIndex.ReadAsync(_work, default);
        Assert.Equal(Enumerable.Range(0, Threads * EachPublishes).Select(i => $"/in/s{i}.parquet")
            .Order(StringComparer.Ordinal), entries.Select(e => e.Source).Order(StringComparer.Ordinal));
        Assert.Empty(Directory.GetFiles(_work, "*.tmp"));
    }

    [Fact]
    public async Task A_publication_waits_while_another_program_holds_the_lock_and_goes_through_when_it_is_let_go()
    {
        using Process holder = await HoldLockAsync(seconds: 1.5);
        var clock = Stopwatch.StartNew();

        await EmbeddingIndex.PublishAsync(_work, Entry(1), CancellationToken.None);

        Assert.True(holder.HasExited, "the publication went through while the lock was held");
        Assert.InRange(clock.Elapsed, TimeSpan.FromSeconds(0.5), TimeSpan.FromSeconds(30));
        Assert.Equal("/in/s1.parquet", Assert.Single(await EmbeddingIndex.ReadAsync(_work, default)).Source);
    }

    [Fact]
    public async Task A_lock_held_longer_than_the_wait_fails_the_publication_naming_the_lock_and_changes_nothing()
    {
        await EmbeddingIndex.PublishAsync(_work, Entry(1), CancellationToken.None);
        using Process holder = await HoldLockAsync(seconds: 30);

        var e = await Assert.ThrowsAsync<TimeoutException>(() =>
            EmbeddingIndex.PublishAsync(_work, Entry(2), TimeSpan.FromMilliseconds(300), CancellationToken.None));

        holder.Kill();
        Assert.Contains(LockFile, e.Message, StringComparison.Ordinal);
        Assert.Equal(["/in/s1.parquet"], (await EmbeddingIndex.ReadAsync(_work, default)).Select(x => x.Source));
    }

    [Fact]
    public async Task A_publication_waiting_for_the_lock_can_be_cancelled()
    {
        using Process holder = await HoldLockAsync(seconds: 30);
        using var cancel = new CancellationTokenSource(TimeSpan.FromMilliseconds(300));

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() =>
            EmbeddingIndex.PublishAsync(_work, Entry(1), cancel.Token));

        holder.Kill();
        Assert.False(File.Exists(Path.Combine(_work, EmbeddingIndex.FileName)));
    }

    private static IndexEntry Entry(int i) =>
        new($"/in/s{i}.parquet", $"hash{i}", $"shards/s{i}-hash{i}", i + 1, 7, [$"shards/s{i}-hash{i}/e.parquet"], At);

    // Starts util-linux's flock holding an exclusive lock on the index's lock file for that long, in one process
    // (no fork, so killing it lets the lock go); returns once it holds it (it prints a line then).
    private async Task<Process> HoldLockAsync(double seconds)
    {
        var start = new ProcessStartInfo("flock")
        {
            RedirectStandardOutput = true,
            UseShellExecute = false,
        };
        string script = FormattableString.Invariant($"echo held; exec sleep {seconds}");
        foreach (string arg in new[] { "--exclusive", "--no-fork", LockFile, "sh", "-c", script })
        {
            start.ArgumentList.Add(arg);
        }
        Process holder = Process.Start(start) ?? throw new InvalidOperationException("flock did not start");
        Assert.Equal("held", await holder.StandardOutput.ReadLineAsync().WaitAsync(TimeSpan.FromSeconds(30)));
        return holder;
    }
}
