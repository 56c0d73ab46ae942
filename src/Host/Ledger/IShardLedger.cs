namespace DataflowContrastive.Host.Ledger;

/// <summary>
/// The record of every shard a service has seen and what became of it. A shard version is never ingested twice;
/// a changed file is a new version; a version left in progress by a crashed worker is handed out again once its
/// lease expires. Worker names must be unique among the workers sharing a ledger: a lease is held by name.
/// </summary>
public interface IShardLedger : IAsyncDisposable
{
    /// <summary>
    /// Records shards seen in a scan; a (pipeline, path, hash) already known is left alone; a new path or a path
    /// whose content hash changed becomes a New entry. An older version of that path still New is rejected as
    /// superseded, since its content can no longer be read. New entries of one call are added in path order.
    /// </summary>
    /// <returns>How many entries are new.</returns>
    Task<int> RecordSeenAsync(string pipeline, IReadOnlyList<ShardFingerprint> shards,
        CancellationToken cancellation);

    /// <summary>
    /// Leases the oldest New shard of the pipeline, or one InProgress whose lease expired (a crashed worker's), to
    /// this worker; null when there is none. Never hands one shard to two live leases.
    /// </summary>
    Task<ShardLease?> TryLeaseAsync(string pipeline, string worker, TimeSpan leaseFor, CancellationToken cancellation);

    /// <summary>
    /// Extends a lease still held by its worker; false when it was lost (expired and taken by another). A lease that
    /// expired but that no other worker has taken yet is still held. A <paramref name="leaseFor"/> of zero lets the
    /// lease go: the shard can be leased again at once, by this worker or another.
    /// </summary>
    Task<bool> RenewAsync(ShardLease lease, TimeSpan leaseFor, CancellationToken cancellation);

    /// <summary>
    /// Marks the shard Done; false when the lease was lost (the caller must then not publish its results).
    /// </summary>
    Task<bool> CompleteAsync(ShardLease lease, CancellationToken cancellation);

    /// <summary>Marks the shard Rejected with <paramref name="reason"/>; false when the lease was lost.</summary>
    Task<bool> RejectAsync(ShardLease lease, string reason, CancellationToken cancellation);

    /// <summary>Every entry of the pipeline, oldest first.</summary>
    Task<IReadOnlyList<LedgerEntry>> ListAsync(string pipeline, CancellationToken cancellation);
}
