using System.Data.Common;
using System.Diagnostics;

namespace DataflowContrastive.Host.Ledger;

/// <summary>
/// The ledger's logic in SQL that SQLite and PostgreSQL share: one table, <c>shard_ledger</c>, one row per
/// (pipeline, path, content hash). The two backends differ in how they open a transaction, store times and pick a
/// shard to lease. Every clock read goes through the <see cref="TimeProvider"/>, so lease expiry compares the
/// clocks of the workers that share a ledger: keep their clocks in sync and leases much longer than the skew.
/// </summary>
public abstract class SqlShardLedger : IShardLedger
{
    /// <summary>The reason recorded on a version still New when a scan finds the file changed again.</summary>
    public const string SupersededReason = "superseded: the file changed before it was ingested";

    private const string Columns = "id, pipeline, path, size, modified, content_hash, state, worker, "
        + "lease_expires_at, reason, first_seen, finished, attempts";

    private readonly TimeProvider _time;

    private protected SqlShardLedger(TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(time);
        _time = time;
    }

    /// <summary>
    /// Selects <c>id, path, content_hash</c> of the shard to lease next, given <c>@pipeline</c> and <c>@now</c>; the
    /// row must stay locked against other workers until the transaction ends.
    /// </summary>
    private protected abstract string NextShardQuery { get; }

    private protected abstract object TimeValue(DateTimeOffset time);

    private protected abstract DateTimeOffset ReadTime(DbDataReader reader, int ordinal);

    /// <summary>Opens a transaction that may write.</summary>
    private protected abstract Task<LedgerSession> BeginAsync(CancellationToken cancellation);

    /// <inheritdoc />
    public abstract ValueTask DisposeAsync();

    /// <inheritdoc />
    public async Task<int> RecordSeenAsync(string pipeline, IReadOnlyList<ShardFingerprint> shards,
        CancellationToken cancellation)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(pipeline);
        ArgumentNullException.ThrowIfNull(shards);
        foreach (ShardFingerprint shard in shards)
        {
            CheckFingerprint(shard);
        }

        DateTimeOffset now = _time.GetUtcNow();
        await using LedgerSession session = await BeginAsync(cancellation);
        int added = 0;
        // One order for every scan: two workers recording the same shards then lock their rows in the same order
        // and cannot deadlock.
        foreach (ShardFingerprint shard in shards.OrderBy(s => s.Path, StringComparer.Ordinal))
        {
            added += await RecordOneAsync(session, pipeline, shard, now, cancellation);
        }
        await session.CommitAsync(cancellation);
        return added;
    }

    /// <inheritdoc />
    public async Task<ShardLease?> TryLeaseAsync(string pipeline, string worker, TimeSpan leaseFor,
        CancellationToken cancellation)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(pipeline);
        ArgumentException.ThrowIfNullOrWhiteSpace(worker);
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(leaseFor, TimeSpan.Zero);

        DateTimeOffset now = _time.GetUtcNow();
        await using LedgerSession session = await BeginAsync(cancellation);
        (long Id, string Path, string Hash)? next = await NextShardAsync(session, pipeline, now, cancellation);
        if (next is not { } shard)
        {
            return null;
        }

        DateTimeOffset expires = now + leaseFor;
        int updated = await session.ExecuteAsync("""
            UPDATE shard_ledger SET state = 'in_progress', worker = @worker, lease_expires_at = @expires,
                attempts = attempts + 1
            WHERE id = @id
            """, cancellation, ("worker", worker), ("expires", TimeValue(expires)), ("id", shard.Id));
        Debug.Assert(updated == 1, "the row was selected and locked in this transaction");
        await session.CommitAsync(cancellation);
        return new ShardLease(shard.Id, pipeline, shard.Path, shard.Hash, worker, expires);
    }

    /// <inheritdoc />
    public Task<bool> RenewAsync(ShardLease lease, TimeSpan leaseFor, CancellationToken cancellation)
    {
        ArgumentNullException.ThrowIfNull(lease);
        ArgumentOutOfRangeException.ThrowIfLessThan(leaseFor, TimeSpan.Zero);
        DateTimeOffset expires = _time.GetUtcNow() + leaseFor;
        return UpdateHeldAsync(lease, "lease_expires_at = @expires", cancellation, ("expires", TimeValue(expires)));
    }

    /// <inheritdoc />
    public Task<bool> CompleteAsync(ShardLease lease, CancellationToken cancellation)
    {
        ArgumentNullException.ThrowIfNull(lease);
        return UpdateHeldAsync(lease, "state = 'done', lease_expires_at = NULL, finished = @now", cancellation,
            ("now", TimeValue(_time.GetUtcNow())));
    }

    /// <inheritdoc />
    public Task<bool> RejectAsync(ShardLease lease, string reason, CancellationToken cancellation)
    {
        ArgumentNullException.ThrowIfNull(lease);
        ArgumentException.ThrowIfNullOrWhiteSpace(reason);
        return UpdateHeldAsync(lease, "state = 'rejected', lease_expires_at = NULL, finished = @now, reason = @reason",
            cancellation, ("now", TimeValue(_time.GetUtcNow())), ("reason", reason));
    }

    /// <inheritdoc />
    public async Task<IReadOnlyList<LedgerEntry>> ListAsync(string pipeline, CancellationToken cancellation)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(pipeline);
        await using LedgerSession session = await BeginAsync(cancellation);
        await using DbCommand command = session.Command(
            $"SELECT {Columns} FROM shard_ledger WHERE pipeline = @pipeline ORDER BY id", ("pipeline", pipeline));
        await using DbDataReader reader = await command.ExecuteReaderAsync(cancellation);
        var entries = new List<LedgerEntry>();
        while (await reader.ReadAsync(cancellation))
        {
            entries.Add(ReadEntry(reader));
        }
        return entries;
    }

    private static void CheckFingerprint(ShardFingerprint shard)
    {
        ArgumentNullException.ThrowIfNull(shard);
        ArgumentException.ThrowIfNullOrWhiteSpace(shard.Path);
        ArgumentException.ThrowIfNullOrWhiteSpace(shard.ContentHash);
        ArgumentOutOfRangeException.ThrowIfNegative(shard.Size);
    }

    private async Task<int> RecordOneAsync(LedgerSession session, string pipeline, ShardFingerprint shard,
        DateTimeOffset now, CancellationToken cancellation)
    {
        int inserted = await session.ExecuteAsync("""
            INSERT INTO shard_ledger (pipeline, path, size, modified, content_hash, state, first_seen, attempts)
            VALUES (@pipeline, @path, @size, @modified, @hash, 'new', @now, 0)
            ON CONFLICT (pipeline, path, content_hash) DO NOTHING
            """, cancellation, ("pipeline", pipeline), ("path", shard.Path), ("size", shard.Size),
            ("modified", TimeValue(shard.Modified)), ("hash", shard.ContentHash), ("now", TimeValue(now)));
        if (inserted == 0)
        {
            return 0;
        }

        // The older version's bytes are gone: ingesting it now would read the new content under the old hash,
        // and the new version would then be ingested a second time.
        await session.ExecuteAsync("""
            UPDATE shard_ledger SET state = 'rejected', reason = @reason, finished = @now
            WHERE pipeline = @pipeline AND path = @path AND content_hash <> @hash AND state = 'new'
            """, cancellation, ("reason", SupersededReason), ("now", TimeValue(now)), ("pipeline", pipeline),
            ("path", shard.Path), ("hash", shard.ContentHash));
        return 1;
    }

    private async Task<(long Id, string Path, string Hash)?> NextShardAsync(LedgerSession session, string pipeline,
        DateTimeOffset now, CancellationToken cancellation)
    {
        await using DbCommand command = session.Command(NextShardQuery,
            ("pipeline", pipeline), ("now", TimeValue(now)));
        await using DbDataReader reader = await command.ExecuteReaderAsync(cancellation);
        if (!await reader.ReadAsync(cancellation))
        {
            return null;
        }
        return (reader.GetInt64(0), reader.GetString(1), reader.GetString(2));
    }

    /// <summary>Applies <paramref name="assignments"/> if the lease's worker still holds the entry.</summary>
    private async Task<bool> UpdateHeldAsync(ShardLease lease, string assignments, CancellationToken cancellation,
        params (string Name, object Value)[] parameters)
    {
        await using LedgerSession session = await BeginAsync(cancellation);
        int updated = await session.ExecuteAsync(
            $"UPDATE shard_ledger SET {assignments} WHERE id = @id AND worker = @worker AND state = 'in_progress'",
            cancellation, [.. parameters, ("id", lease.Id), ("worker", lease.Worker)]);
        await session.CommitAsync(cancellation);
        return updated == 1;
    }

    private LedgerEntry ReadEntry(DbDataReader reader) => new(
        Id: reader.GetInt64(0),
        Pipeline: reader.GetString(1),
        Path: reader.GetString(2),
        Size: reader.GetInt64(3),
        Modified: ReadTime(reader, 4),
        ContentHash: reader.GetString(5),
        State: ParseState(reader.GetString(6)),
        Worker: reader.IsDBNull(7) ? null : reader.GetString(7),
        LeaseExpiresAt: reader.IsDBNull(8) ? null : ReadTime(reader, 8),
        Reason: reader.IsDBNull(9) ? null : reader.GetString(9),
        FirstSeen: ReadTime(reader, 10),
        Finished: reader.IsDBNull(11) ? null : ReadTime(reader, 11),
        Attempts: reader.GetInt32(12));

    private static ShardState ParseState(string state) => state switch
    {
        "new" => ShardState.New,
        "in_progress" => ShardState.InProgress,
        "done" => ShardState.Done,
        "rejected" => ShardState.Rejected,
        // The table's CHECK constraint allows only the four names above.
        _ => throw new UnreachableException($"shard_ledger holds an unknown state '{state}'"),
    };
}
