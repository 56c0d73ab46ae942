namespace DataflowContrastive.Host.Ledger;

/// <summary>One row of the ledger: one version (content hash) of one shard path for one pipeline.</summary>
/// <param name="Worker">The worker that holds the lease, or that finished the shard.</param>
/// <param name="LeaseExpiresAt">
/// When the current lease runs out; null unless <see cref="ShardState.InProgress"/>.
/// </param>
/// <param name="Reason">Why the shard was rejected; null otherwise.</param>
/// <param name="FirstSeen">When a scan first recorded this version.</param>
/// <param name="Finished">When it became <see cref="ShardState.Done"/> or <see cref="ShardState.Rejected"/>.</param>
/// <param name="Attempts">How many leases it has been given, counting the ones taken back after a crash.</param>
public sealed record LedgerEntry(long Id, string Pipeline, string Path, long Size, DateTimeOffset Modified,
    string ContentHash, ShardState State, string? Worker, DateTimeOffset? LeaseExpiresAt, string? Reason,
    DateTimeOffset FirstSeen, DateTimeOffset? Finished, int Attempts);
