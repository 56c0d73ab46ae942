using System.Diagnostics;
using DataflowContrastive.Host.Ledger;
using DataflowContrastive.Host.Pipelines;
using DataflowContrastive.Host.Running;
using Microsoft.Extensions.Logging;

namespace DataflowContrastive.Host.Serving;

/// <summary>
/// One served pipeline's loop: on each trigger, a pass. A pass lists the source shards, records them in the ledger,
/// then leases new shards one at a time and works on each (<see cref="ShardWork"/>). A shard's results are published
/// only while its lease is still held, and the shard is marked done after they are: a worker that dies in between
/// leaves the shard to be done again, and the redo replaces what was published instead of adding to it.
/// </summary>
public sealed partial class PipelineWorker
{
    private readonly ServedPipeline _pipeline;
    private readonly IShardLedger _ledger;
    private readonly string _worker;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly ShardWork _work;
    private readonly ShardFingerprinter _hasher = new();

    /// <summary>Attempts at a shard whose work ends in a run error before the shard is rejected.</summary>
    public const int MaxAttempts = 3;

    /// <param name="worker">This worker's name in the ledger's leases.</param>
    public PipelineWorker(ServedPipeline pipeline, IShardLedger ledger, string worker, TimeProvider time,
        ILoggerFactory loggers)
    {
        ArgumentNullException.ThrowIfNull(pipeline);
        ArgumentNullException.ThrowIfNull(ledger);
        ArgumentException.ThrowIfNullOrWhiteSpace(worker);
        ArgumentNullException.ThrowIfNull(time);
        ArgumentNullException.ThrowIfNull(loggers);
        _pipeline = pipeline;
        _ledger = ledger;
        _worker = worker;
        _time = time;
        _logger = loggers.CreateLogger<PipelineWorker>();
        _work = new ShardWork(pipeline, loggers, time);
    }

    private string Name => _pipeline.Name;

    private ServeSettings Serve => _pipeline.Definition.Serve;

    /// <summary>
    /// Serves until <paramref name="stopping"/> fires: a pass at once (shards that arrived while the service was
    /// down), then one on each trigger. With <paramref name="once"/>, the first pass is the only one.
    /// <paramref name="passed"/> is called after each pass that ended without an error.
    /// </summary>
    public async Task ServeAsync(bool once, Action passed, CancellationToken stopping)
    {
        ArgumentNullException.ThrowIfNull(passed);
        using var triggers = new ServeTriggers(_pipeline.Definition, _time);
        string reason = "start";
        while (true)
        {
            LogPass(_logger, Name, reason);
            await PassAsync(once, triggers, stopping);
            passed();
            if (once || stopping.IsCancellationRequested)
            {
                return;
            }
            reason = await triggers.WaitAsync(stopping);
        }
    }

    /// <summary>
    /// One pass: records the shards found, then works on every shard the ledger leases to this worker. With
    /// <paramref name="waitForOthers"/>, it also waits out shards leased by others (such as a worker that died) and
    /// takes them when their leases expire.
    /// </summary>
    public async Task PassAsync(bool waitForOthers, ServeTriggers? triggers, CancellationToken stopping)
    {
        await RecordAsync(triggers, stopping);
        while (!stopping.IsCancellationRequested)
        {
            ShardLease? lease = await _ledger.TryLeaseAsync(Name, _worker, Serve.Lease, stopping);
            if (lease is null)
            {
                if (waitForOthers && await WaitForLeasesAsync(stopping))
                {
                    continue;
                }
                return;
            }
            await WorkAsync(lease, stopping);
            await CountWaitingAsync(stopping);
        }
    }

    private async Task RecordAsync(ServeTriggers? triggers, CancellationToken stopping)
    {
        DateTimeOffset settledBefore = _time.GetUtcNow() - Serve.Settle;
        var seen = new List<ShardFingerprint>();
        int unsettled = 0;
        foreach (string shard in _pipeline.Definition.FindShards())
        {
            if (!File.Exists(shard))
            {
                continue;
            }
            if (File.GetLastWriteTimeUtc(shard) > settledBefore.UtcDateTime)
            {
                unsettled++;
                continue;
            }
            seen.Add(await _hasher.FingerprintAsync(shard, stopping));
        }
        if (unsettled > 0)
        {
            LogUnsettled(_logger, Name, unsettled, unsettled == 1 ? "file" : "files");
            triggers?.Soon(Serve.Settle);
        }

        int added = await _ledger.RecordSeenAsync(Name, seen, stopping);
        long waiting = await CountWaitingAsync(stopping);
        LogScanned(_logger, Name, seen.Count, seen.Count == 1 ? "shard" : "shards", added, waiting);
    }

    // Shards new or in progress, also set as the pipeline's queue depth.
    private async Task<long> CountWaitingAsync(CancellationToken cancellationToken)
    {
        IReadOnlyList<LedgerEntry> entries = await _ledger.ListAsync(Name, cancellationToken);
        long waiting = entries.Count(e => e.State is ShardState.New or ShardState.InProgress);
        ServeMetrics.QueueDepth(Name, waiting);
        return waiting;
    }

    // True after waiting for the earliest lease held by another worker to expire; false when none is held.
    private async Task<bool> WaitForLeasesAsync(CancellationToken stopping)
    {
        DateTimeOffset now = _time.GetUtcNow();
        DateTimeOffset? earliest = (await _ledger.ListAsync(Name, stopping))
            .Where(e => e.State == ShardState.InProgress && e.LeaseExpiresAt is not null)
            .Min(e => e.LeaseExpiresAt);
        if (earliest is not { } expires)
        {
            return false;
        }
        TimeSpan wait = expires - now + TimeSpan.FromMilliseconds(100);
        double seconds = Math.Max(0, wait.TotalSeconds);
        LogWaitingForLease(_logger, Name, seconds);
        await Task.Delay(wait > TimeSpan.Zero ? wait : TimeSpan.FromMilliseconds(100), _time, stopping);
        return true;
    }

    private async Task WorkAsync(ShardLease lease, CancellationToken stopping)
    {
        LedgerEntry? entry = (await _ledger.ListAsync(Name, stopping)).FirstOrDefault(e => e.Id == lease.Id);
        if (entry is not null)
        {
            ServeMetrics.Waited(Name, _time.GetUtcNow() - entry.FirstSeen);
        }
        int attempts = entry?.Attempts ?? 1;
        LogLeased(_logger, Name, lease.Path, attempts);

        var clock = Stopwatch.StartNew();
        using var lost = CancellationTokenSource.CreateLinkedTokenSource(stopping);
        Task<bool> renewing = RenewWhileWorkingAsync(lease, lost);
        ShardResult result;
        try
        {
            result = await _work.RunAsync(lease, lost.Token);
        }
        catch (ShardRejectedException e)
        {
            await StopRenewingAsync(lost, renewing, stopping);
            await RejectAsync(lease, e.Message, stopping);
            return;
        }
        catch (PipelineRunException e) when (attempts >= MaxAttempts && !stopping.IsCancellationRequested)
        {
            // A run error that keeps coming back on one shard is most likely the shard's data (no usable sample):
            // the shard is set aside so the pipeline goes on with the others.
            await StopRenewingAsync(lost, renewing, stopping);
            await RejectAsync(lease, $"failed {attempts} times; last: {e.Message}", stopping);
            return;
        }
        catch (Exception) when (!stopping.IsCancellationRequested)
        {
            // Not the shard's fault: its lease is let go at once, so the retried pass takes it up again.
            await StopRenewingAsync(lost, renewing, stopping);
            await _ledger.RenewAsync(lease, TimeSpan.Zero, CancellationToken.None);
            ServeMetrics.ShardEnded(Name, "failed");
            throw;
        }
        bool held = await StopRenewingAsync(lost, renewing, stopping);
        ServeMetrics.ShardWorked(Name, result.Rows, clock.Elapsed);
        if (result.Stopped && stopping.IsCancellationRequested)
        {
            LogStoppedInShard(_logger, Name, lease.Path);
            return;
        }
        await PublishAsync(lease, result, held, stopping);
    }

    private async Task PublishAsync(ShardLease lease, ShardResult result, bool held, CancellationToken stopping)
    {
        // The lease is checked (and extended) right before the results go out, so a worker that lost it while
        // working, or lost it without noticing, publishes nothing.
        if (result.Stopped || !held || !await _ledger.RenewAsync(lease, Serve.Lease, stopping))
        {
            ServeMetrics.ShardEnded(Name, "lost");
            LogLost(_logger, Name, lease.Path);
            return;
        }
        if (result.Exported is { } exported)
        {
            _work.Place(exported);
            IReadOnlyList<IndexEntry> replaced =
                await EmbeddingIndex.PublishAsync(_pipeline.Definition.Export.Directory, exported, stopping);
            foreach (IndexEntry superseded in replaced)
            {
                _work.Remove(superseded, exported);
            }
        }
        await _work.WriteSummaryAsync(result, CancellationToken.None);
        bool completed = await _ledger.CompleteAsync(lease, CancellationToken.None);
        ServeMetrics.ShardEnded(Name, completed ? "done" : "lost");
        LogDone(_logger, Name, lease.Path, result.Trained, result.Exported?.Rows ?? 0);
        if (result.Note is { } note)
        {
            LogNote(_logger, Name, lease.Path, note);
        }
    }

    private async Task RejectAsync(ShardLease lease, string reason, CancellationToken stopping)
    {
        if (await _ledger.RejectAsync(lease, reason, stopping))
        {
            // A worker that lost the lease leaves the folder alone: the shard's new holder may be writing it.
            _work.Discard(lease);
        }
        ServeMetrics.ShardEnded(Name, "rejected");
        LogRejected(_logger, Name, lease.Path, reason);
    }

    // Renews the lease at a third of its length while the shard is worked on; a renewal refused means another worker
    // has the shard now, so the work here is cancelled.
    private async Task<bool> RenewWhileWorkingAsync(ShardLease lease, CancellationTokenSource lost)
    {
        try
        {
            while (true)
            {
                await Task.Delay(Serve.Lease / 3, _time, lost.Token);
                if (!await _ledger.RenewAsync(lease, Serve.Lease, lost.Token))
                {
                    await lost.CancelAsync();
                    return false;
                }
            }
        }
        catch (OperationCanceledException)
        {
            return true;
        }
    }

    // Ends the renewals; true while the lease was never found lost.
    private static async Task<bool> StopRenewingAsync(CancellationTokenSource lost, Task<bool> renewing,
        CancellationToken stopping)
    {
        bool lostBefore = lost.IsCancellationRequested && !stopping.IsCancellationRequested;
        await lost.CancelAsync();
        bool held = await renewing;
        return held && !lostBefore;
    }

    [LoggerMessage(EventId = 40, Level = LogLevel.Information, Message = "Pipeline {Pipeline}: pass ({Reason})")]
    private static partial void LogPass(ILogger logger, string pipeline, string reason);

    [LoggerMessage(EventId = 41, Level = LogLevel.Information,
        Message = "Pipeline {Pipeline}: {Shards} {ShardNoun} found, {Added} new; {Waiting} waiting")]
    private static partial void LogScanned(ILogger logger, string pipeline, int shards, string shardNoun, int added,
        long waiting);

    [LoggerMessage(EventId = 42, Level = LogLevel.Information,
        Message = "Pipeline {Pipeline}: shard {Shard} leased (attempt {Attempt})")]
    private static partial void LogLeased(ILogger logger, string pipeline, string shard, int attempt);

    [LoggerMessage(EventId = 43, Level = LogLevel.Information,
        Message = "Pipeline {Pipeline}: shard {Shard} done: {Samples} samples trained, {Exported} rows published")]
    private static partial void LogDone(ILogger logger, string pipeline, string shard, long samples, long exported);

    [LoggerMessage(EventId = 44, Level = LogLevel.Warning,
        Message = "Pipeline {Pipeline}: shard {Shard} rejected: {Reason}")]
    private static partial void LogRejected(ILogger logger, string pipeline, string shard, string reason);

    [LoggerMessage(EventId = 45, Level = LogLevel.Warning,
        Message = "Pipeline {Pipeline}: the lease on {Shard} was lost to another worker; nothing was published")]
    private static partial void LogLost(ILogger logger, string pipeline, string shard);

    [LoggerMessage(EventId = 46, Level = LogLevel.Information,
        Message = "Pipeline {Pipeline}: stopped while working on {Shard}; it is taken up again after a restart")]
    private static partial void LogStoppedInShard(ILogger logger, string pipeline, string shard);

    [LoggerMessage(EventId = 47, Level = LogLevel.Information,
        Message = "Pipeline {Pipeline}: waiting {Seconds:F1} s for a lease held by another worker to expire")]
    private static partial void LogWaitingForLease(ILogger logger, string pipeline, double seconds);

    [LoggerMessage(EventId = 48, Level = LogLevel.Information,
        Message = "Pipeline {Pipeline}: {Files} {FileNoun} still being written, left for a later pass")]
    private static partial void LogUnsettled(ILogger logger, string pipeline, int files, string fileNoun);

    [LoggerMessage(EventId = 49, Level = LogLevel.Information, Message = "Pipeline {Pipeline}: shard {Shard}: {Note}")]
    private static partial void LogNote(ILogger logger, string pipeline, string shard, string note);
}
