namespace DataflowContrastive.Ingest;

/// <summary>
/// A shard that cannot be read (or read further): corrupt, not a Parquet file, holding links instead of images,
/// over a size budget, or unreadable after retries. The one exception that bad shard data raises.
/// </summary>
public sealed class ShardException : Exception
{
    /// <summary><see cref="Code"/> of a file that is not Parquet, is truncated or has a corrupt structure.</summary>
    public const string Corrupt = "shard-corrupt";

    /// <summary><see cref="Code"/> of a file that could not be opened or read: missing, or an I/O failure.</summary>
    public const string Unreadable = "shard-unreadable";

    /// <summary>
    /// <see cref="Code"/> of a row group or value count over a memory budget of the options. <see cref="ShardReader"/>
    /// rejects such a row group's rows one by one instead (<see cref="RawSample.RowGroupTooLarge"/>).
    /// </summary>
    public const string TooLarge = "shard-too-large";

    /// <summary><see cref="Code"/> of a shard that holds links (a URL column) instead of image bytes.</summary>
    public const string LinksOnly = "shard-links-only";

    /// <summary>
    /// <see cref="Code"/> of a shard whose columns cannot serve: no image column, several candidates, a column the
    /// mapping names but the shard lacks, or a list or map column where a flat one is needed.
    /// </summary>
    public const string Columns = "shard-columns";

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
    /// shard failed before any row, for example on its footer or its columns.
    /// </summary>
    public long? Row { get; }

    /// <summary>Why, in words a user can act on.</summary>
    public string Reason { get; }

    /// <summary>
    /// The kind of failure as a short stable code for counting (<see cref="Corrupt"/>, <see cref="Unreadable"/>,
    /// <see cref="TooLarge"/>, <see cref="LinksOnly"/>, <see cref="Columns"/>); <see cref="Corrupt"/> by default.
    /// </summary>
    public string Code { get; init; } = Corrupt;

    private static string Describe(string shard, long? row, string reason) =>
        row is null ? $"shard {shard}: {reason}" : $"shard {shard}, row {row}: {reason}";
}
