using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using System.Security.Cryptography;
using DataflowContrastive.Ingest;
using Microsoft.Extensions.Logging;

namespace DataflowContrastive.Host.Running;

/// <summary>
/// Keeps the accounting of a run: every rejected sample or shard is counted by reason, written once to the rejects
/// file, and warned about in the log at a limited rate; notes (such as a caption cut to fit) are counted too.
/// Both are also published as metrics of the meter <see cref="MeterName"/>: the counters
/// <c>dfc.samples.rejected</c> and <c>dfc.samples.noted</c>, tagged with <c>reason</c>. Safe to call from the
/// parallel decode stage.
/// </summary>
public sealed partial class RunRecorder : IAsyncDisposable
{
    /// <summary>Name of the meter whose counters follow the rejections and notes.</summary>
    public const string MeterName = "DataflowContrastive";

    private static readonly TimeSpan WarningInterval = TimeSpan.FromSeconds(5);
    private static readonly Meter Metrics = new(MeterName);
    private static readonly Counter<long> RejectedCounter = Metrics.CreateCounter<long>("dfc.samples.rejected",
        unit: "{sample}", description: "Samples or shards left out of the run, by reason.");
    private static readonly Counter<long> NotedCounter = Metrics.CreateCounter<long>("dfc.samples.noted",
        unit: "{sample}", description: "Samples kept with a note (such as a caption cut to fit), by reason.");

    private const string PartPrefix = "part-";

    private readonly string? _partDirectory;
    // Several processes may write parts into one folder (workers of one served pipeline): each names its parts with
    // a token of its own, so that two never pick the same name.
    private readonly string _partToken = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(4));
    private RejectsWriter? _rejects;
    private int _nextPart;
    private readonly ILogger _logger;
    private readonly TimeProvider _time;
    private readonly ConcurrentDictionary<string, long> _rejected = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, long> _notes = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<(string Shard, long? Row), byte> _seen = new();
    private readonly ConcurrentDictionary<string, long> _lastWarning = new(StringComparer.Ordinal);
    private readonly SemaphoreSlim _writeLock = new(1, 1);

    /// <summary>A recorder that writes every rejection into one Parquet file, <paramref name="rejectsPath"/>.
    /// </summary>
    public RunRecorder(string rejectsPath, ILogger logger, TimeProvider? time = null)
        : this(logger, time, rejectsPath, partDirectory: null)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(rejectsPath))!);
        _rejects = new RejectsWriter(rejectsPath);
    }

    private RunRecorder(ILogger logger, TimeProvider? time, string rejectsPath, string? partDirectory)
    {
        ArgumentNullException.ThrowIfNull(logger);
        _logger = logger;
        _time = time ?? TimeProvider.System;
        RejectsPath = rejectsPath;
        _partDirectory = partDirectory;
    }

    /// <summary>The rejects file, or the folder of rejects parts.</summary>
    public string RejectsPath { get; }

    /// <summary>
    /// A recorder for a run that can be resumed: rejections go into numbered parts in <paramref name="directory"/>,
    /// each named by its number and a random token of this recorder's (<c>part-00000-1f2e3d4c.parquet</c>, ...), so
    /// that recorders of several processes can share the folder, and <see cref="SealPartAsync"/> completes the
    /// current part whenever the run writes a checkpoint. Parts already there, from an earlier and perhaps killed
    /// process of the same run, are read back first, so their rejections stay counted and are never recorded twice.
    /// </summary>
    public static async Task<RunRecorder> OpenPartsAsync(string directory, ILogger logger,
        CancellationToken cancellationToken)
    {
        Directory.CreateDirectory(directory);
        var recorder = new RunRecorder(logger, null, Path.GetFullPath(directory), directory);
        var reader = new ShardColumnReader(new IngestOptions());
        string[] parts =
            [.. Directory.GetFiles(directory, PartPrefix + "*.parquet").Order(StringComparer.Ordinal)];
        foreach (string part in parts)
        {
            await foreach (ColumnBatch batch in reader.ReadAsync(part, ["shard", "row", "code"], cancellationToken))
            {
                for (int i = 0; i < batch.RowCount; i++)
                {
                    var key = ((string)batch["shard"][i]!, (long?)batch["row"][i]);
                    string code = batch["code"][i] as string ?? "unknown";
                    if (recorder._seen.TryAdd(key, 0))
                    {
                        recorder._rejected.AddOrUpdate(code, 1, (_, n) => n + 1);
                    }
                }
            }
        }
        recorder._nextPart = parts.Length;
        return recorder;
    }

    /// <summary>
    /// Moves the rejects parts in <paramref name="directory"/> into a new subfolder named after the time,
    /// <c>earlier-20261203T101500Z</c>, where <see cref="OpenPartsAsync"/> does not read them, for a run that starts
    /// over: its accounting then covers its own reading alone, and the earlier records are kept.
    /// </summary>
    /// <returns>The subfolder, or null when there was no part to move.</returns>
    public static string? SetAsideParts(string directory, TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(time);
        if (!Directory.Exists(directory))
        {
            return null;
        }
        string[] parts = [.. Directory.GetFiles(directory, PartPrefix + "*.parquet*")];
        if (parts.Length == 0)
        {
            return null;
        }
        string earlier = Path.Combine(directory, FormattableString.Invariant(
            $"earlier-{time.GetUtcNow():yyyyMMdd'T'HHmmss'Z'}"));
        Directory.CreateDirectory(earlier);
        foreach (string part in parts)
        {
            File.Move(part, Path.Combine(earlier, Path.GetFileName(part)));
        }
        return earlier;
    }

    /// <summary>Completes the current rejects part, so that it survives a crash; the next rejection starts another.
    /// </summary>
    public async ValueTask SealPartAsync(CancellationToken cancellationToken)
    {
        if (_partDirectory is null)
        {
            return;
        }
        await _writeLock.WaitAsync(cancellationToken);
        try
        {
            if (_rejects is not null)
            {
                await _rejects.DisposeAsync();
                _rejects = null;
            }
        }
        finally
        {
            _writeLock.Release();
        }
    }

    /// <summary>Rejections so far by reason; each shard or row is counted once however often it is read.</summary>
    public IReadOnlyDictionary<string, long> RejectedByReason => _rejected;

    /// <summary>Counted events that are not rejections, such as <c>caption-truncated</c>.</summary>
    public IReadOnlyDictionary<string, long> Notes => _notes;

    public long TotalRejected => _rejected.Values.Sum();

    /// <summary>
    /// Counts, records (with <paramref name="reasonCode"/> as its code) and, at a limited rate, logs one rejection,
    /// unless that shard row was rejected before.
    /// </summary>
    public async ValueTask RejectAsync(Rejection rejection, string reasonCode, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(rejection);
        if (!_seen.TryAdd((rejection.Shard, rejection.Row), 0))
        {
            return;
        }
        long count = _rejected.AddOrUpdate(reasonCode, 1, (_, n) => n + 1);
        RejectedCounter.Add(1, new KeyValuePair<string, object?>("reason", reasonCode));
        WarnAtLimitedRate(rejection, reasonCode, count);

        await _writeLock.WaitAsync(cancellationToken);
        try
        {
            _rejects ??= new RejectsWriter(Path.Combine(_partDirectory!,
                FormattableString.Invariant($"{PartPrefix}{_nextPart++:D5}-{_partToken}.parquet")));
            await _rejects.AppendAsync(rejection with { Code = reasonCode }, cancellationToken);
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
            NotedCounter.Add(1, new KeyValuePair<string, object?>("reason", code));
        }
    }

    /// <summary>
    /// Counts and records a shard that could not be read (or read further) under its
    /// <see cref="ShardException.Code"/>, with its reason and the row where reading stopped.
    /// </summary>
    public ValueTask RejectShardAsync(ShardException failure, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(failure);
        return RejectAsync(new Rejection(failure.Shard, failure.Row, null, failure.Reason, null), failure.Code,
            cancellationToken);
    }

    public async ValueTask DisposeAsync()
    {
        if (_rejects is not null)
        {
            await _rejects.DisposeAsync();
        }
        _writeLock.Dispose();
    }

    // One bad shard can hold thousands of bad rows: warn once per reason per interval, with the running count.
    // The count is the one this rejection made: reading the dictionary again could see another thread's.
    private void WarnAtLimitedRate(Rejection rejection, string reasonCode, long count)
    {
        long now = _time.GetTimestamp();
        long last = _lastWarning.GetOrAdd(reasonCode, long.MinValue);
        bool due = last == long.MinValue || _time.GetElapsedTime(last, now) >= WarningInterval;
        if (due && _lastWarning.TryUpdate(reasonCode, now, last))
        {
            if (rejection.Row is { } row)
            {
                LogRejected(_logger, rejection.Shard, row, rejection.Reason, count);
            }
            else
            {
                LogShardRejected(_logger, rejection.Shard, rejection.Reason, count);
            }
        }
    }

    [LoggerMessage(EventId = 20, Level = LogLevel.Warning,
        Message = "Rejected {Shard} row {Row}: {Reason} ({Count} rejected for this reason so far)")]
    private static partial void LogRejected(ILogger logger, string shard, long row, string reason, long count);

    [LoggerMessage(EventId = 23, Level = LogLevel.Warning,
        Message = "Rejected the whole shard {Shard}: {Reason} ({Count} rejected for this reason so far)")]
    private static partial void LogShardRejected(ILogger logger, string shard, string reason, long count);
}
