using System.Collections.Concurrent;
using DataflowContrastive.Ingest;
using Microsoft.Extensions.Logging;

namespace DataflowContrastive.Host.Running;

/// <summary>
/// Keeps the accounting of a run: every rejected sample or shard is counted by reason, written once to the rejects
/// file, and warned about in the log at a limited rate; notes (such as a caption cut to fit) are counted too.
/// Safe to call from the parallel decode stage.
/// </summary>
public sealed partial class RunRecorder : IAsyncDisposable
{
    private static readonly TimeSpan WarningInterval = TimeSpan.FromSeconds(5);

    private readonly RejectsWriter _rejects;
    private readonly ILogger _logger;
    private readonly TimeProvider _time;
    private readonly ConcurrentDictionary<string, long> _rejected = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, long> _notes = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<(string Shard, long? Row), byte> _seen = new();
    private readonly ConcurrentDictionary<string, long> _lastWarning = new(StringComparer.Ordinal);
    private readonly SemaphoreSlim _writeLock = new(1, 1);

    public RunRecorder(string rejectsPath, ILogger logger, TimeProvider? time = null)
    {
        ArgumentNullException.ThrowIfNull(logger);
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(rejectsPath))!);
        _rejects = new RejectsWriter(rejectsPath);
        _logger = logger;
        _time = time ?? TimeProvider.System;
        RejectsPath = rejectsPath;
    }

    public string RejectsPath { get; }

    /// <summary>Rejections so far by reason; each shard or row is counted once however often it is read.</summary>
    public IReadOnlyDictionary<string, long> RejectedByReason => _rejected;

    /// <summary>Counted events that are not rejections, such as <c>caption-truncated</c>.</summary>
    public IReadOnlyDictionary<string, long> Notes => _notes;

    public long TotalRejected => _rejected.Values.Sum();

    /// <summary>Counts, records and (rate-limited) logs one rejection, unless that shard row was rejected before.</summary>
    public async ValueTask RejectAsync(Rejection rejection, string reasonCode, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(rejection);
        if (!_seen.TryAdd((rejection.Shard, rejection.Row), 0))
        {
            return;
        }
        _rejected.AddOrUpdate(reasonCode, 1, (_, n) => n + 1);
        WarnAtLimitedRate(rejection, reasonCode);

        await _writeLock.WaitAsync(cancellationToken);
        try
        {
            await _rejects.AppendAsync(rejection, cancellationToken);
        }
        finally
        {
            _writeLock.Release();
        }
    }

    /// <summary>Counts a note about a sample that was kept, once per shard row.</summary>
    public void Note(string code, string shard, long row)
    {
        if (_seen.TryAdd(($"{code}\n{shard}", row), 0))
        {
            _notes.AddOrUpdate(code, 1, (_, n) => n + 1);
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _rejects.DisposeAsync();
        _writeLock.Dispose();
    }

    // One bad shard can hold thousands of bad rows: warn once per reason per interval, with the running count.
    private void WarnAtLimitedRate(Rejection rejection, string reasonCode)
    {
        long now = _time.GetTimestamp();
        long last = _lastWarning.GetOrAdd(reasonCode, long.MinValue);
        bool due = last == long.MinValue || _time.GetElapsedTime(last, now) >= WarningInterval;
        if (due && _lastWarning.TryUpdate(reasonCode, now, last))
        {
            LogRejected(_logger, rejection.Shard, rejection.Row, rejection.Reason, _rejected[reasonCode]);
        }
    }

    [LoggerMessage(EventId = 20, Level = LogLevel.Warning,
        Message = "Rejected {Shard} row {Row}: {Reason} ({Count} rejected for this reason so far)")]
    private static partial void LogRejected(ILogger logger, string shard, long? row, string reason, long count);
}
