using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using DataflowContrastive.Host.Ledger;
using DataflowContrastive.Host.Serving;
using Microsoft.Extensions.Logging;
using Parquet;

namespace DataflowContrastive.Tests.Host;

/// <summary>A clock that stands still until a test advances it; timers due by then fire, in time order.</summary>
public sealed class FakeClock(DateTimeOffset start) : TimeProvider
{
    private readonly List<FakeTimer> _timers = [];
    private DateTimeOffset _now = start;

    public override DateTimeOffset GetUtcNow()
    {
        lock (_timers)
        {
            return _now;
        }
    }

    public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
    {
        var timer = new FakeTimer(this, callback, state);
        timer.Change(dueTime, period);
        lock (_timers)
        {
            _timers.Add(timer);
        }
        return timer;
    }

    /// <summary>Moves the clock to <paramref name="to"/>, firing every timer due on the way at its due time.</summary>
    public void AdvanceTo(DateTimeOffset to)
    {
        while (true)
        {
            FakeTimer? next;
            lock (_timers)
            {
                next = _timers.Where(t => t.Due is { } due && due <= to).MinBy(t => t.Due);
                if (next is null)
                {
                    _now = to;
                    return;
                }
                _now = next.Due!.Value;
                next.Due = next.Period > TimeSpan.Zero ? _now + next.Period : null;
            }
            next.Fire();
        }
    }

    /// <summary>
    /// Moves the clock to <paramref name="to"/> one timer at a time, letting whatever a timer wakes set its next
    /// timer before going on (waiting up to a second for one), so a loop of waits fires each time it should.
    /// </summary>
    public async Task AdvanceStepwiseAsync(DateTimeOffset to)
    {
        while (true)
        {
            for (int i = 0; i < 100 && PendingTimers == 0; i++)
            {
                await Task.Delay(10);
            }
            DateTimeOffset? due;
            lock (_timers)
            {
                due = _timers.Where(t => t.Due is { } d && d <= to).Min(t => t.Due);
            }
            if (due is null)
            {
                AdvanceTo(to);
                return;
            }
            AdvanceTo(due.Value);
            await Task.Delay(20);
        }
    }

    /// <summary>True once something waits on this clock (at least one timer is set).</summary>
    public int PendingTimers
    {
        get
        {
            lock (_timers)
            {
                return _timers.Count(t => t.Due is not null);
            }
        }
    }

    private sealed class FakeTimer(FakeClock clock, TimerCallback callback, object? state) : ITimer
    {
        public DateTimeOffset? Due { get; set; }

        public TimeSpan Period { get; private set; }

        public bool Change(TimeSpan dueTime, TimeSpan period)
        {
            lock (clock._timers)
            {
                Due = dueTime == Timeout.InfiniteTimeSpan ? null : clock._now + dueTime;
                Period = period == Timeout.InfiniteTimeSpan ? TimeSpan.Zero : period;
            }
            return true;
        }

        public void Fire() => callback(state);

        public void Dispose()
        {
            lock (clock._timers)
            {
                Due = null;
                clock._timers.Remove(this);
            }
        }

        public ValueTask DisposeAsync()
        {
            Dispose();
            return ValueTask.CompletedTask;
        }
    }
}

/// <summary>
/// The ledger's agreed behaviour kept in memory, for tests of the service alone: new entries per (path, hash),
/// leases that expire, and completion only while the lease is held. A hook can make calls fail.
/// </summary>
public sealed class InMemoryShardLedger(TimeProvider time) : IShardLedger
{
    private readonly List<LedgerEntry> _entries = [];

    /// <summary>Called at the start of every call; throw from it to make the ledger fail.</summary>
    public Action<string> BeforeCall { get; set; } = _ => { };

    public Task<int> RecordSeenAsync(string pipeline, IReadOnlyList<ShardFingerprint> shards,
        CancellationToken cancellation)
    {
        BeforeCall(nameof(RecordSeenAsync));
        lock (_entries)
        {
            int added = 0;
            foreach (ShardFingerprint s in shards.Where(s => !_entries.Any(e =>
                e.Pipeline == pipeline && e.Path == s.Path && e.ContentHash == s.ContentHash)))
            {
                _entries.Add(new LedgerEntry(_entries.Count + 1, pipeline, s.Path, s.Size, s.Modified, s.ContentHash,
                    ShardState.New, null, null, null, time.GetUtcNow(), null, 0));
                added++;
            }
            return Task.FromResult(added);
        }
    }

    public Task<ShardLease?> TryLeaseAsync(string pipeline, string worker, TimeSpan leaseFor,
        CancellationToken cancellation)
    {
        BeforeCall(nameof(TryLeaseAsync));
        lock (_entries)
        {
            DateTimeOffset now = time.GetUtcNow();
            int i = _entries.FindIndex(e => e.Pipeline == pipeline && (e.State == ShardState.New
                || (e.State == ShardState.InProgress && e.LeaseExpiresAt <= now)));
            if (i < 0)
            {
                return Task.FromResult<ShardLease?>(null);
            }
            _entries[i] = _entries[i] with
            {
                State = ShardState.InProgress,
                Worker = worker,
                LeaseExpiresAt = now + leaseFor,
                Attempts = _entries[i].Attempts + 1,
            };
            return Task.FromResult<ShardLease?>(new ShardLease(_entries[i].Id, pipeline, _entries[i].Path,
                _entries[i].ContentHash, worker, now + leaseFor));
        }
    }

    public Task<bool> RenewAsync(ShardLease lease, TimeSpan leaseFor, CancellationToken cancellation)
    {
        // As the real ledgers check it, so that a caller passing what they refuse fails here too.
        ArgumentOutOfRangeException.ThrowIfLessThan(leaseFor, TimeSpan.Zero);
        return Change(lease, e => e with { LeaseExpiresAt = time.GetUtcNow() + leaseFor });
    }

    public Task<bool> CompleteAsync(ShardLease lease, CancellationToken cancellation) =>
        Change(lease, e => e with { State = ShardState.Done, LeaseExpiresAt = null, Finished = time.GetUtcNow() });

    public Task<bool> RejectAsync(ShardLease lease, string reason, CancellationToken cancellation) =>
        Change(lease, e => e with { State = ShardState.Rejected, LeaseExpiresAt = null, Reason = reason });

    public Task<IReadOnlyList<LedgerEntry>> ListAsync(string pipeline, CancellationToken cancellation)
    {
        BeforeCall(nameof(ListAsync));
        lock (_entries)
        {
            return Task.FromResult<IReadOnlyList<LedgerEntry>>([.. _entries.Where(e => e.Pipeline == pipeline)]);
        }
    }

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;

    private Task<bool> Change(ShardLease lease, Func<LedgerEntry, LedgerEntry> change)
    {
        BeforeCall("change");
        lock (_entries)
        {
            int i = _entries.FindIndex(e => e.Id == lease.Id);
            bool held = i >= 0 && _entries[i].State == ShardState.InProgress && _entries[i].Worker == lease.Worker
                && _entries[i].LeaseExpiresAt > time.GetUtcNow();
            if (held)
            {
                _entries[i] = change(_entries[i]);
            }
            return Task.FromResult(held);
        }
    }
}

/// <summary>Pipeline files, child processes and outputs shared by the serve tests.</summary>
public static class ServeKit
{
    /// <summary>A tiny training pipeline over the folder <c>in</c> of <paramref name="work"/>, served as told.
    /// </summary>
    public static string WritePipeline(string work, string name, string serve, int checkpointEvery = 100)
    {
        Directory.CreateDirectory(Path.Combine(work, "in"));
        string path = Path.Combine(work, name + ".yaml");
        File.WriteAllText(path, $$"""
            name: {{name}}
            source: { shards: in, shuffle_buffer: 8 }
            output: {{name}}-out
            images: { size: 32, workers: 1 }
            batch: { size: 8 }
            model: { embed_dim: 8, image_widths: [4], text_width: 16, text_layers: 1, text_heads: 2 }
            train: { device: cpu, log_every: 1 }
            checkpoint: { every: {{checkpointEvery}} }
            serve: { {{serve}} }
            """);
        return path;
    }

    /// <summary>Copies a sample shard into <paramref name="folder"/> the safe way: a temporary name, then a rename.
    /// </summary>
    public static string Drop(string folder, string sample)
    {
        string target = Path.Combine(folder, sample);
        File.Copy(TestPaths.Repo("samples", "coco-cc", sample), target + ".part");
        File.Move(target + ".part", target);
        return target;
    }

    /// <summary>Rows of a Parquet file, from its footer, read with Parquet.Net directly.</summary>
    public static async Task<long> RowsAsync(string path)
    {
        await using ParquetReader reader = await ParquetReader.CreateAsync(path);
        return Enumerable.Range(0, reader.RowGroupCount).Sum(i => reader.OpenRowGroupReader(i).RowCount);
    }

    /// <summary>The entries of an export folder's index.json: (source, rows, directory, files).</summary>
    public static List<(string Source, long Rows, string Directory, string[] Files)> Index(string exportDirectory)
    {
        string path = Path.Combine(exportDirectory, "index.json");
        if (!File.Exists(path))
        {
            return [];
        }
        using JsonDocument index = JsonDocument.Parse(File.ReadAllText(path));
        return [.. index.RootElement.GetProperty("shards").EnumerateArray().Select(e => (
            e.GetProperty("source").GetString()!, e.GetProperty("rows").GetInt64(),
            e.GetProperty("directory").GetString()!,
            e.GetProperty("files").EnumerateArray().Select(f => f.GetString()!).ToArray()))];
    }

    /// <summary>
    /// The ledger entries of the pipeline file at <paramref name="pipelineFile"/>, read through the ledger that
    /// <c>dfc serve</c> opens for it: (path, state, attempts).
    /// </summary>
    public static async Task<List<(string Path, ShardState State, int Attempts)>> LedgerAsync(string pipelineFile)
    {
        ServedPipeline pipeline = ServedPipeline.Load(pipelineFile);
        await using IShardLedger ledger = await ServeLedgers.OpenAsync(pipeline.Definition, TimeProvider.System,
            CancellationToken.None);
        IReadOnlyList<LedgerEntry> entries = await ledger.ListAsync(pipeline.Name, CancellationToken.None);
        return [.. entries.Select(e => (e.Path, e.State, e.Attempts))];
    }

    /// <summary>Starts <c>dfc</c> with its output redirected.</summary>
    public static Process StartDfc(params string[] args)
    {
        var start = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "dfc.dll"));
        foreach (string arg in args)
        {
            start.ArgumentList.Add(arg);
        }
        return Process.Start(start) ?? throw new InvalidOperationException("dotnet did not start");
    }

    /// <summary>Sends <paramref name="signal"/> to the process <paramref name="pid"/>.</summary>
    public static int Kill(int pid, string signal)
    {
        using Process kill = Process.Start("kill", ["-" + signal, pid.ToString(CultureInfo.InvariantCulture)]);
        kill.WaitForExit();
        return kill.ExitCode;
    }

    /// <summary>Collects a process's output lines and completes when a line contains <paramref name="awaited"/>.
    /// </summary>
    public static (List<string> Lines, Task Seen) Watch(Process process, string awaited)
    {
        var lines = new List<string>();
        var seen = new TaskCompletionSource();
        DataReceivedEventHandler handler = (_, e) =>
        {
            lock (lines)
            {
                lines.Add(e.Data ?? "");
            }
            if (e.Data?.Contains(awaited, StringComparison.Ordinal) == true)
            {
                seen.TrySetResult();
            }
        };
        process.OutputDataReceived += handler;
        process.ErrorDataReceived += handler;
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return (lines, seen.Task);
    }
}

/// <summary>Every log entry of a host, at every level, with its exception, for a test to look at.</summary>
public sealed class ServeLog : ILoggerProvider
{
    private readonly List<(LogLevel Level, string Text, Exception? Exception)> _entries = [];

    /// <summary>The entries so far.</summary>
    public List<(LogLevel Level, string Text, Exception? Exception)> Entries
    {
        get
        {
            lock (_entries)
            {
                return [.. _entries];
            }
        }
    }

    public ILogger CreateLogger(string categoryName) => new Logger(this);

    public void Dispose()
    {
    }

    private sealed class Logger(ServeLog log) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception,
            Func<TState, Exception?, string> formatter)
        {
            lock (log._entries)
            {
                log._entries.Add((logLevel, formatter(state, exception), exception));
            }
        }
    }
}
