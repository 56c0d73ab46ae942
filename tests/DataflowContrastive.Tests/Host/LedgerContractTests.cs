using System.Diagnostics;
using DataflowContrastive.Host.Ledger;

namespace DataflowContrastive.Tests.Host;

/// <summary>
/// What every shard ledger promises, run against each backend by a subclass. Each test uses a pipeline name of its
/// own, so tests sharing one database do not see each other's shards.
/// </summary>
public abstract class LedgerContractTests : IAsyncLifetime
{
    private static readonly DateTimeOffset Start = new(2026, 3, 4, 5, 6, 7, TimeSpan.Zero);
    private static readonly TimeSpan Minute = TimeSpan.FromMinutes(1);

    private readonly List<IShardLedger> _opened = [];

    protected ManualClock Clock { get; } = new(Start);

    protected string Pipeline { get; } = "test-" + Guid.NewGuid().ToString("N");

    private IShardLedger Ledger => _opened[0];

    /// <summary>Opens the backend's ledger again: another connection, as another worker would hold.</summary>
    protected abstract Task<IShardLedger> OpenLedgerAsync(TimeProvider time);

    /// <summary>The <c>--ledger</c> spec that reaches the same ledger from a <c>dfc</c> process.</summary>
    protected abstract string Spec { get; }

    public virtual async Task InitializeAsync() => await OpenAsync();

    public virtual async Task DisposeAsync()
    {
        foreach (IShardLedger ledger in _opened)
        {
            await ledger.DisposeAsync();
        }
    }

    [Fact]
    public async Task New_shards_are_recorded_once_and_a_second_scan_leaves_them_alone()
    {
        ShardFingerprint a = Shard("a.parquet", "aa"), b = Shard("b.parquet", "bb");

        Assert.Equal(2, await Ledger.RecordSeenAsync(Pipeline, [a, b], default));
        Clock.Advance(Minute);
        Assert.Equal(0, await Ledger.RecordSeenAsync(Pipeline, [b, a], default));

        IReadOnlyList<LedgerEntry> entries = await ListAsync();
        Assert.Equal(["a.parquet", "b.parquet"], entries.Select(e => e.Path));
        LedgerEntry first = entries[0];
        Assert.Equal((Pipeline, 1000L, Start.AddDays(-1), "aa"), (first.Pipeline, first.Size, first.Modified,
            first.ContentHash));
        Assert.Equal((ShardState.New, (string?)null, (DateTimeOffset?)null, (string?)null), (first.State,
            first.Worker, first.LeaseExpiresAt, first.Reason));
        Assert.Equal((Start, (DateTimeOffset?)null, 0), (first.FirstSeen, first.Finished, first.Attempts));
    }

    [Fact]
    public async Task A_changed_file_is_a_new_entry_and_its_older_version_still_new_is_rejected_as_superseded()
    {
        await Ledger.RecordSeenAsync(Pipeline, [Shard("a.parquet", "v1")], default);
        Clock.Advance(Minute);

        Assert.Equal(1, await Ledger.RecordSeenAsync(Pipeline, [Shard("a.parquet", "v2")], default));

        IReadOnlyList<LedgerEntry> entries = await ListAsync();
        Assert.Equal([("v1", ShardState.Rejected), ("v2", ShardState.New)],
            entries.Select(e => (e.ContentHash, e.State)));
        Assert.Equal(SqlShardLedger.SupersededReason, entries[0].Reason);
        Assert.Equal(Start + Minute, entries[0].Finished);
        ShardLease? lease = await LeaseAsync("w1");
        Assert.Equal("v2", lease?.ContentHash);
    }

    [Fact]
    public async Task A_done_shard_whose_content_changes_is_new_again_but_its_old_content_coming_back_is_not()
    {
        await Ledger.RecordSeenAsync(Pipeline, [Shard("a.parquet", "v1")], default);
        Assert.True(await Ledger.CompleteAsync((await LeaseAsync("w1"))!, default));

        Assert.Equal(1, await Ledger.RecordSeenAsync(Pipeline, [Shard("a.parquet", "v2")], default));
        Assert.Equal(0, await Ledger.RecordSeenAsync(Pipeline, [Shard("a.parquet", "v1")], default));

        Assert.Equal([("v1", ShardState.Done), ("v2", ShardState.New)],
            (await ListAsync()).Select(e => (e.ContentHash, e.State)));
    }

    [Fact]
    public async Task Leasing_hands_out_shards_in_the_order_first_seen_then_by_path_and_then_nothing()
    {
        await Ledger.RecordSeenAsync(Pipeline, [Shard("c.parquet", "cc")], default);
        await Ledger.RecordSeenAsync(Pipeline, [Shard("b.parquet", "bb"), Shard("a.parquet", "aa")], default);

        ShardLease?[] leases = [await LeaseAsync("w1"), await LeaseAsync("w2"), await LeaseAsync("w1")];
        ShardLease? fourth = await LeaseAsync("w2");

        Assert.Equal(["c.parquet", "a.parquet", "b.parquet"], leases.Select(l => l?.Path));
        Assert.Equal(("cc", "w1", Start + Minute), (leases[0]?.ContentHash, leases[0]?.Worker, leases[0]?.ExpiresAt));
        Assert.Null(fourth);
        IReadOnlyList<LedgerEntry> entries = await ListAsync();
        Assert.All(entries, e => Assert.Equal((ShardState.InProgress, Start + Minute, 1),
            (e.State, e.LeaseExpiresAt, e.Attempts)));
        Assert.Equal(["w1", "w2", "w1"], entries.Select(e => e.Worker));
    }

    [Fact]
    public async Task Renewing_keeps_the_shard_from_other_workers_past_the_first_expiry()
    {
        await Ledger.RecordSeenAsync(Pipeline, [Shard("a.parquet", "aa")], default);
        ShardLease lease = (await LeaseAsync("w1"))!;

        Clock.Advance(TimeSpan.FromSeconds(50));
        Assert.True(await Ledger.RenewAsync(lease, Minute, default));
        Clock.Advance(TimeSpan.FromSeconds(30));

        Assert.Null(await LeaseAsync("w2"));
        Assert.Equal(Start + TimeSpan.FromSeconds(110), (await ListAsync())[0].LeaseExpiresAt);
    }

    [Fact]
    public async Task A_completed_shard_is_done_and_never_leased_again()
    {
        await Ledger.RecordSeenAsync(Pipeline, [Shard("a.parquet", "aa")], default);
        ShardLease lease = (await LeaseAsync("w1"))!;
        Clock.Advance(TimeSpan.FromSeconds(20));

        Assert.True(await Ledger.CompleteAsync(lease, default));

        LedgerEntry entry = (await ListAsync())[0];
        Assert.Equal((ShardState.Done, "w1", (DateTimeOffset?)null, Start + TimeSpan.FromSeconds(20), 1),
            (entry.State, entry.Worker, entry.LeaseExpiresAt, entry.Finished, entry.Attempts));
        Clock.Advance(TimeSpan.FromDays(1));
        Assert.Null(await LeaseAsync("w2"));
        Assert.False(await Ledger.CompleteAsync(lease, default));
    }

    [Fact]
    public async Task A_rejected_shard_keeps_its_reason_and_is_never_leased_again()
    {
        await Ledger.RecordSeenAsync(Pipeline, [Shard("a.parquet", "aa")], default);
        ShardLease lease = (await LeaseAsync("w1"))!;

        Assert.True(await Ledger.RejectAsync(lease, "footer unreadable: file is corrupt", default));

        LedgerEntry entry = (await ListAsync())[0];
        Assert.Equal((ShardState.Rejected, "footer unreadable: file is corrupt", Start),
            (entry.State, entry.Reason, entry.Finished));
        Clock.Advance(TimeSpan.FromDays(1));
        Assert.Null(await LeaseAsync("w2"));
    }

    [Fact]
    public async Task A_crashed_workers_shard_is_redone_by_another_once_the_lease_expires_and_the_first_lost_it()
    {
        await Ledger.RecordSeenAsync(Pipeline, [Shard("a.parquet", "aa")], default);
        ShardLease crashed = (await LeaseAsync("w1"))!;
        IShardLedger other = await OpenAsync();

        Clock.Advance(Minute - TimeSpan.FromSeconds(1));
        Assert.Null(await other.TryLeaseAsync(Pipeline, "w2", Minute, default));
        Clock.Advance(TimeSpan.FromSeconds(1));
        ShardLease? redo = await other.TryLeaseAsync(Pipeline, "w2", Minute, default);

        Assert.Equal((crashed.Id, "a.parquet", Start + 2 * Minute), (redo?.Id, redo?.Path, redo?.ExpiresAt));
        Assert.False(await Ledger.RenewAsync(crashed, Minute, default));
        Assert.False(await Ledger.CompleteAsync(crashed, default));
        Assert.False(await Ledger.RejectAsync(crashed, "late", default));
        Assert.True(await other.CompleteAsync(redo!, default));
        LedgerEntry entry = (await ListAsync())[0];
        Assert.Equal((ShardState.Done, "w2", 2), (entry.State, entry.Worker, entry.Attempts));
    }

    [Fact]
    public async Task An_expired_lease_that_no_other_worker_took_is_still_held()
    {
        await Ledger.RecordSeenAsync(Pipeline, [Shard("a.parquet", "aa")], default);
        ShardLease lease = (await LeaseAsync("w1"))!;
        Clock.Advance(2 * Minute);

        Assert.True(await Ledger.CompleteAsync(lease, default));
        Assert.Equal(ShardState.Done, (await ListAsync())[0].State);
    }

    [Fact]
    public async Task Pipelines_keep_separate_entries_for_the_same_file()
    {
        string otherPipeline = Pipeline + "-other";
        await Ledger.RecordSeenAsync(Pipeline, [Shard("a.parquet", "aa")], default);
        Assert.Equal(1, await Ledger.RecordSeenAsync(otherPipeline, [Shard("a.parquet", "aa")], default));

        Assert.True(await Ledger.CompleteAsync((await LeaseAsync("w1"))!, default));

        Assert.Equal(ShardState.New, (await Ledger.ListAsync(otherPipeline, default))[0].State);
    }

    // A worker whose pass failed for a reason not the shard's lets its lease go, so the retried pass, or another
    // worker, takes the shard up at once instead of waiting for the lease to expire.
    [Fact]
    public async Task A_lease_renewed_for_no_time_is_let_go_and_leased_again_at_once()
    {
        await Ledger.RecordSeenAsync(Pipeline, [Shard("a.parquet", "aa")], default);
        ShardLease first = (await LeaseAsync("w1"))!;

        Assert.True(await Ledger.RenewAsync(first, TimeSpan.Zero, default));
        ShardLease again = Assert.IsType<ShardLease>(await LeaseAsync("w2"));

        Assert.Equal(first.Id, again.Id);
        Assert.False(await Ledger.RenewAsync(first, Minute, default));
        Assert.Equal((ShardState.InProgress, "w2", 2), (await ListAsync()).Select(e => (e.State, e.Worker, e.Attempts))
            .Single());
    }

    [Fact]
    public async Task Leasing_checks_its_arguments()
    {
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() =>
            Ledger.TryLeaseAsync(Pipeline, "w1", TimeSpan.Zero, default));
        await Assert.ThrowsAsync<ArgumentException>(() => Ledger.TryLeaseAsync(Pipeline, " ", Minute, default));
        await Assert.ThrowsAsync<ArgumentException>(() => Ledger.RecordSeenAsync("", [], default));
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => Ledger.RenewAsync(
            new ShardLease(1, Pipeline, "a.parquet", "aa", "w1", Start), TimeSpan.FromSeconds(-1), default));
    }

    [Fact]
    public async Task Workers_leasing_at_once_through_two_connections_never_hold_one_shard_twice()
    {
        const int Shards = 30;
        await Ledger.RecordSeenAsync(Pipeline,
            [.. Enumerable.Range(0, Shards).Select(i => Shard($"s{i:D2}.parquet", $"h{i}"))], default);
        IShardLedger other = await OpenAsync();

        Task<List<long>>[] workers = [.. Enumerable.Range(0, 6).Select(w =>
            Task.Run(() => DrainAsync(w % 2 == 0 ? Ledger : other, $"w{w}")))];
        List<long>[] taken = await Task.WhenAll(workers);

        long[] all = [.. taken.SelectMany(ids => ids)];
        Assert.Equal(Shards, all.Length);
        Assert.Equal(Shards, all.Distinct().Count());
        Assert.All(await ListAsync(), e => Assert.Equal((ShardState.Done, 1), (e.State, e.Attempts)));
    }

    [Fact]
    public async Task Two_worker_processes_split_the_shards_without_overlap()
    {
        const int Shards = 40;
        string work = Directory.CreateTempSubdirectory("dfc-drill-").FullName;
        try
        {
            string shards = Directory.CreateDirectory(Path.Combine(work, "shards")).FullName;
            for (int i = 0; i < Shards; i++)
            {
                await File.WriteAllTextAsync(Path.Combine(shards, $"shard-{i:D2}.parquet"), $"shard {i}");
            }
            string go = Path.Combine(work, "go");
            using var first = new LedgerDrill(Spec, Pipeline, "w1", shards, go);
            using var second = new LedgerDrill(Spec, Pipeline, "w2", shards, go);

            // Both record the shards, then start leasing together, so neither finishes before the other begins.
            await Task.WhenAll(first.Ready, second.Ready).WaitAsync(TimeSpan.FromSeconds(120));
            await File.WriteAllTextAsync(go, "");
            string[][] took = await Task.WhenAll(first.TookAsync(), second.TookAsync())
                .WaitAsync(TimeSpan.FromSeconds(120));

            Assert.Equal(Shards, took.Sum(paths => paths.Length));
            Assert.Equal(Shards, took.SelectMany(paths => paths).Distinct().Count());
            Assert.All(took, paths => Assert.NotEmpty(paths));
            IReadOnlyList<LedgerEntry> entries = await ListAsync();
            Assert.Equal(Shards, entries.Count);
            Assert.All(entries, e => Assert.Equal((ShardState.Done, 1), (e.State, e.Attempts)));
        }
        finally
        {
            Directory.Delete(work, recursive: true);
        }
    }

    private async Task<IShardLedger> OpenAsync()
    {
        IShardLedger ledger = await OpenLedgerAsync(Clock);
        _opened.Add(ledger);
        return ledger;
    }

    private Task<IReadOnlyList<LedgerEntry>> ListAsync() => Ledger.ListAsync(Pipeline, default);

    private Task<ShardLease?> LeaseAsync(string worker) => Ledger.TryLeaseAsync(Pipeline, worker, Minute, default);

    private static ShardFingerprint Shard(string path, string hash) =>
        new(path, 1000, Start.AddDays(-1), hash);

    private async Task<List<long>> DrainAsync(IShardLedger ledger, string worker)
    {
        var taken = new List<long>();
        while (await ledger.TryLeaseAsync(Pipeline, worker, Minute, default) is { } lease)
        {
            taken.Add(lease.Id);
            await Task.Yield();
            Assert.True(await ledger.CompleteAsync(lease, default));
        }
        return taken;
    }
}

/// <summary>A <c>dfc ledger-drill</c> process and the lines it prints.</summary>
internal sealed class LedgerDrill : IDisposable
{
    private readonly Process _process;
    private readonly List<string> _lines = [];
    private readonly TaskCompletionSource _ready = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public LedgerDrill(string spec, string pipeline, string worker, string shards, string go)
    {
        var start = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (string arg in (string[])[Path.Combine(AppContext.BaseDirectory, "dfc.dll"), "ledger-drill",
            "--ledger", spec, "--pipeline", pipeline, "--worker", worker, "--shards", shards, "--hold-ms", "50",
            "--wait-for", go])
        {
            start.ArgumentList.Add(arg);
        }
        _process = new Process { StartInfo = start, EnableRaisingEvents = true };
        _process.Exited += (_, _) => OnExit();
        _process.Start();
        _process.OutputDataReceived += (_, e) => OnLine(e.Data);
        _process.ErrorDataReceived += (_, e) => OnLine(e.Data);
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
    }

    /// <summary>Completes once the drill has recorded the shards and waits for the go file.</summary>
    public Task Ready => _ready.Task;

    /// <summary>Waits for a clean exit and returns the paths the drill printed as taken.</summary>
    public async Task<string[]> TookAsync()
    {
        await _process.WaitForExitAsync();
        lock (_lines)
        {
            Assert.True(_process.ExitCode == 0, $"ledger-drill exited with {_process.ExitCode}:\n"
                + string.Join('\n', _lines));
            Assert.All(_lines, line => Assert.True(
                line is "ready" || line.StartsWith("took ", StringComparison.Ordinal), line));
            return [.. _lines.Where(l => l.StartsWith("took ", StringComparison.Ordinal)).Select(l => l[5..])];
        }
    }

    public void Dispose()
    {
        if (!_process.HasExited)
        {
            _process.Kill();
        }
        _process.Dispose();
    }

    private void OnExit()
    {
        // A drill that fails before it is ready would otherwise leave the test waiting for the whole timeout.
        _process.WaitForExit();
        lock (_lines)
        {
            _ready.TrySetException(new InvalidOperationException(
                $"ledger-drill exited with {_process.ExitCode} before it was ready:\n{string.Join('\n', _lines)}"));
        }
    }

    private void OnLine(string? line)
    {
        if (line is null)
        {
            return;
        }
        lock (_lines)
        {
            _lines.Add(line);
        }
        if (line == "ready")
        {
            _ready.TrySetResult();
        }
    }
}

/// <summary>A clock that moves only when a test says so.</summary>
public sealed class ManualClock(DateTimeOffset start) : TimeProvider
{
    private DateTimeOffset _now = start;

    public override DateTimeOffset GetUtcNow() => _now;

    public void Advance(TimeSpan by) => _now += by;
}
