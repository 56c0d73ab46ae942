namespace DataflowContrastive.Host.Serving;

/// <summary>
/// A shard whose data cannot serve the pipeline (corrupt, too few rows for a batch, nothing exportable); its
/// message names the shard and the reason, and the shard is marked rejected in the ledger.
/// </summary>
public sealed class ShardRejectedException : Exception
{
    public ShardRejectedException()
    {
    }

    public ShardRejectedException(string message)
        : base(message)
    {
    }

    public ShardRejectedException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
