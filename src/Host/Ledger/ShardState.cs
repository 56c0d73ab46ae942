namespace DataflowContrastive.Host.Ledger;

/// <summary>Where one version of a shard stands in the ledger.</summary>
public enum ShardState
{
    /// <summary>Seen in a scan, not yet taken by a worker.</summary>
    New,

    /// <summary>Leased to a worker; taken back when the lease expires.</summary>
    InProgress,

    /// <summary>Ingested; never handed out again.</summary>
    Done,

    /// <summary>Not ingested, for the reason recorded beside it; never handed out again.</summary>
    Rejected,
}
