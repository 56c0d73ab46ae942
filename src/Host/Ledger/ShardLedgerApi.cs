namespace DataflowContrastive.Host.Ledger;

public enum ShardState { New, InProgress, Done, Rejected }

/// What identifies one version of a shard file. ContentHash: lowercase hex SHA-256 of the whole file.
public sealed record ShardFingerprint(string Path, long Size, DateTimeOffset Modified, string ContentHash);

public sealed record ShardLease(long Id, string Pipeline, string Path, string ContentHash, string Worker,
    DateTimeOffset ExpiresAt);

public sealed record LedgerEntry(long Id, string Pipeline, string Path, long Size, DateTimeOffset Modified,
    string ContentHash, ShardState State, string? Worker, DateTimeOffset? LeaseExpiresAt, string? Reason,
    DateTimeOffset FirstSeen, DateTimeOffset? Finished, int Attempts);

public interface IShardLedger : IAsyncDisposable
{
    /// Records shards seen in a scan; a (pipeline, path, hash) already known is left alone; a new path or a path
    /// whose content hash changed becomes a New entry. Returns how many entries are new.
    Task<int> RecordSeenAsync(string pipeline, IReadOnlyList<ShardFingerprint> shards, CancellationToken cancellation);

    /// Leases the oldest New shard of the pipeline, or one InProgress whose lease expired (a crashed worker's), to
    /// this worker; null when there is none. Never hands one shard to two live leases (PostgreSQL: FOR UPDATE
    /// SKIP LOCKED in one transaction).
    Task<ShardLease?> TryLeaseAsync(string pipeline, string worker, TimeSpan leaseFor, CancellationToken cancellation);

    /// Extends a lease still held by its worker; false when it was lost (expired and taken by another).
    Task<bool> RenewAsync(ShardLease lease, TimeSpan leaseFor, CancellationToken cancellation);

    /// Done / Rejected(reason); false when the lease was lost (the caller must then not publish its results).
    Task<bool> CompleteAsync(ShardLease lease, CancellationToken cancellation);
    Task<bool> RejectAsync(ShardLease lease, string reason, CancellationToken cancellation);

    Task<IReadOnlyList<LedgerEntry>> ListAsync(string pipeline, CancellationToken cancellation);
}
