using System.Text.Json;
using System.Text.Json.Serialization;
using DataflowContrastive.Host.Export;
using DataflowContrastive.Host.Ledger;

namespace DataflowContrastive.Host.Serving;

/// <summary>
/// A shard ledger kept in one JSON file, rewritten atomically on every change under an exclusive lock file. It serves
/// the workers of one machine; workers on several machines share a SQL ledger instead. Every call reads and rewrites
/// the whole file, which is fine for thousands of shards, not for millions.
/// </summary>
public sealed class FileShardLedger : IShardLedger
{
    private static readonly JsonSerializerOptions JsonOptions = new()
    {
        WriteIndented = true,
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        Converters = { new JsonStringEnumConverter(JsonNamingPolicy.SnakeCaseLower) },
    };

    private readonly string _path;
    private readonly TimeProvider _time;
    private readonly SemaphoreSlim _gate = new(1, 1);

    /// <summary>Opens (or, on first change, creates) the ledger file at <paramref name="path"/>.</summary>
    public FileShardLedger(string path, TimeProvider time)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        ArgumentNullException.ThrowIfNull(time);
        _path = Path.GetFullPath(path);
        _time = time;
    }

    public Task<int> RecordSeenAsync(string pipeline, IReadOnlyList<ShardFingerprint> shards,
        CancellationToken cancellation)
    {
        ArgumentNullException.ThrowIfNull(shards);
        return ChangeAsync(entries =>
        {
            int added = 0;
            foreach (ShardFingerprint shard in shards)
            {
                if (entries.Any(e => e.Pipeline == pipeline && e.Path == shard.Path
                    && e.ContentHash == shard.ContentHash))
                {
                    continue;
                }
                long id = entries.Count == 0 ? 1 : entries.Max(e => e.Id) + 1;
                entries.Add(new LedgerEntry(id, pipeline, shard.Path, shard.Size, shard.Modified, shard.ContentHash,
                    ShardState.New, null, null, null, _time.GetUtcNow(), null, 0));
                added++;
            }
            return added;
        }, cancellation);
    }

    public Task<ShardLease?> TryLeaseAsync(string pipeline, string worker, TimeSpan leaseFor,
        CancellationToken cancellation) =>
        ChangeAsync(entries =>
        {
            DateTimeOffset now = _time.GetUtcNow();
            int index = entries.FindIndex(e => e.Pipeline == pipeline && (e.State == ShardState.New
                || (e.State == ShardState.InProgress && e.LeaseExpiresAt <= now)));
            if (index < 0)
            {
                return null;
            }
            LedgerEntry entry = entries[index] with
            {
                State = ShardState.InProgress,
                Worker = worker,
                LeaseExpiresAt = now + leaseFor,
                Attempts = entries[index].Attempts + 1,
            };
            entries[index] = entry;
            return new ShardLease(entry.Id, pipeline, entry.Path, entry.ContentHash, worker, now + leaseFor);
        }, cancellation);

    public Task<bool> RenewAsync(ShardLease lease, TimeSpan leaseFor, CancellationToken cancellation) =>
        EndOrRenewAsync(lease, e => e with { LeaseExpiresAt = _time.GetUtcNow() + leaseFor }, cancellation);

    public Task<bool> CompleteAsync(ShardLease lease, CancellationToken cancellation) =>
        EndOrRenewAsync(lease, e => e with
        {
            State = ShardState.Done,
            LeaseExpiresAt = null,
            Finished = _time.GetUtcNow(),
        }, cancellation);

    public Task<bool> RejectAsync(ShardLease lease, string reason, CancellationToken cancellation) =>
        EndOrRenewAsync(lease, e => e with
        {
            State = ShardState.Rejected,
            LeaseExpiresAt = null,
            Reason = reason,
            Finished = _time.GetUtcNow(),
        }, cancellation);

    public Task<IReadOnlyList<LedgerEntry>> ListAsync(string pipeline, CancellationToken cancellation) =>
        ChangeAsync<IReadOnlyList<LedgerEntry>>(entries => [.. entries.Where(e => e.Pipeline == pipeline)],
            cancellation);

    public ValueTask DisposeAsync()
    {
        _gate.Dispose();
        return ValueTask.CompletedTask;
    }

    // A lease is still held while the entry is in progress under the same worker and has not expired.
    private Task<bool> EndOrRenewAsync(ShardLease lease, Func<LedgerEntry, LedgerEntry> change,
        CancellationToken cancellation)
    {
        ArgumentNullException.ThrowIfNull(lease);
        return ChangeAsync(entries =>
        {
            int index = entries.FindIndex(e => e.Id == lease.Id);
            bool held = index >= 0 && entries[index] is { State: ShardState.InProgress } e
                && e.Worker == lease.Worker && e.LeaseExpiresAt > _time.GetUtcNow();
            if (held)
            {
                entries[index] = change(entries[index]);
            }
            return held;
        }, cancellation);
    }

    private async Task<T> ChangeAsync<T>(Func<List<LedgerEntry>, T> change, CancellationToken cancellation)
    {
        await _gate.WaitAsync(cancellation);
        try
        {
            await using FileStream held = await LockAsync(cancellation);
            List<LedgerEntry> entries = File.Exists(_path)
                ? JsonSerializer.Deserialize<List<LedgerEntry>>(await File.ReadAllBytesAsync(_path, cancellation),
                    JsonOptions) ?? []
                : [];
            string before = JsonSerializer.Serialize(entries, JsonOptions);
            T result = change(entries);
            string after = JsonSerializer.Serialize(entries, JsonOptions);
            if (after != before)
            {
                await AtomicFile.WriteAsync(_path, s => s.WriteAsync(System.Text.Encoding.UTF8.GetBytes(after),
                    cancellation).AsTask(), cancellation);
            }
            return result;
        }
        finally
        {
            _gate.Release();
        }
    }

    // Another process holding the lock file keeps it for one read and one write: a short wait.
    private async Task<FileStream> LockAsync(CancellationToken cancellation)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(_path)!);
        while (true)
        {
            try
            {
                return new FileStream(_path + ".lock", FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
            }
            catch (IOException)
            {
                await Task.Delay(TimeSpan.FromMilliseconds(20), cancellation);
            }
        }
    }
}
