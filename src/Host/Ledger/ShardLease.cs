namespace DataflowContrastive.Host.Ledger;

/// <summary>A worker's claim on one ledger entry until <paramref name="ExpiresAt"/> (or until it renews).</summary>
/// <param name="Id">The ledger entry's id.</param>
/// <param name="ContentHash">The version of the shard that was leased: the worker checks it before ingesting.</param>
public sealed record ShardLease(long Id, string Pipeline, string Path, string ContentHash, string Worker,
    DateTimeOffset ExpiresAt);
