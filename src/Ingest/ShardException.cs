namespace DataflowContrastive.Ingest;

/// <summary>
/// A shard that cannot be read (or read further): corrupt, not a Parquet file, holding links instead of images,
/// over a size budget, or unreadable after retries. The one exception that bad shard data raises.
/// </summary>
public sealed class ShardException : Exception
{
    /// <summary>Creates the exception for <paramref name="shard"/>, at <paramref name="row"/> if known.</summary>
    public ShardException(string shard, long? row, string reason, Exception? innerException = null)
        : base(Describe(shard, row, reason), innerException)
    {
        Shard = shard;
        Row = row;
        Reason = reason;
    }

    /// <summary>Full path of the shard.</summary>
    public string Shard { get; }

    /// <summary>
    /// The 0-based row where reading stopped (the first row of the row group that failed); null when the
    /// shard failed before any row, for example on its footer.
    /// </summary>
    public long? Row { get; }

    /// <summary>Why, in words a user can act on.</summary>
    public string Reason { get; }

    private static string Describe(string shard, long? row, string reason) =>
        row is null ? $"shard {shard}: {reason}" : $"shard {shard}, row {row}: {reason}";
}
