namespace DataflowContrastive.Ingest;

/// <summary>
/// How shards are read. Every property has a working default; call <see cref="Validate"/> at start-up.
/// </summary>
public sealed class IngestOptions
{
    /// <summary>Default of <see cref="MaxRowGroupBytes"/>: 512 MiB.</summary>
    public const long DefaultMaxRowGroupBytes = 512L * 1024 * 1024;

    /// <summary>Default of <see cref="MaxValueBytes"/>: 64 MiB.</summary>
    public const long DefaultMaxValueBytes = 64L * 1024 * 1024;

    /// <summary>Which columns hold the image, caption, label and key. Default: detect all four.</summary>
    public ColumnMapping Columns { get; init; } = new();

    /// <summary>
    /// The most uncompressed bytes that the columns read from one row group may hold, as the file's metadata
    /// states them; a larger row group is not loaded, and <see cref="ShardReader"/> rejects each of its rows
    /// (<see cref="RawSample.RowGroupTooLarge"/>) and reads on. Default 512 MiB.
    /// </summary>
    public long MaxRowGroupBytes { get; init; } = DefaultMaxRowGroupBytes;

    /// <summary>
    /// The largest single value (an image, a caption) accepted. Default 64 MiB. It is checked once the row group
    /// is read (which <see cref="MaxRowGroupBytes"/> bounds); a larger value is dropped and the row keeps the
    /// reason in <see cref="RawSample.Problem"/>.
    /// </summary>
    public long MaxValueBytes { get; init; } = DefaultMaxValueBytes;

    /// <summary>
    /// How often a transient I/O failure (a briefly locked file, a flaky mount) is retried. Default 3.
    /// </summary>
    public int RetryCount { get; init; } = 3;

    /// <summary>
    /// The first retry's delay; later retries double it, with jitter. Default 200 ms.
    /// </summary>
    public TimeSpan RetryBaseDelay { get; init; } = TimeSpan.FromMilliseconds(200);

    /// <summary>Throws <see cref="ArgumentException"/> naming the first property whose value cannot work.</summary>
    public void Validate()
    {
        if (Columns is null)
        {
            throw new ArgumentException("Columns must not be null; use new ColumnMapping() to detect all columns.",
                nameof(Columns));
        }
        if (MaxRowGroupBytes <= 0)
        {
            throw new ArgumentException($"MaxRowGroupBytes must be positive, was {MaxRowGroupBytes}.",
                nameof(MaxRowGroupBytes));
        }
        if (MaxValueBytes <= 0 || MaxValueBytes > Array.MaxLength)
        {
            throw new ArgumentException(
                $"MaxValueBytes must be between 1 and {Array.MaxLength}, was {MaxValueBytes}.", nameof(MaxValueBytes));
        }
        if (RetryCount < 0 || RetryCount > 100)
        {
            throw new ArgumentException($"RetryCount must be between 0 and 100, was {RetryCount}.",
                nameof(RetryCount));
        }
        if (RetryBaseDelay <= TimeSpan.Zero || RetryBaseDelay > TimeSpan.FromMinutes(1))
        {
            throw new ArgumentException(
                $"RetryBaseDelay must be above zero and at most one minute, was {RetryBaseDelay}.",
                nameof(RetryBaseDelay));
        }
    }
}
