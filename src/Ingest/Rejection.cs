namespace DataflowContrastive.Ingest;

/// <summary>A sample or shard left out of training, with where it came from and why.</summary>
/// <param name="Shard">Full path of the shard.</param>
/// <param name="Row">The 0-based row, or null when the whole shard (or its rest) was rejected.</param>
/// <param name="Key">The sample's key, if known.</param>
/// <param name="Reason">Why, in words a user can act on.</param>
/// <param name="Bytes">The offending bytes (for example the image that failed to decode), if worth keeping.</param>
public sealed record Rejection(string Shard, long? Row, string? Key, string Reason, byte[]? Bytes)
{
    /// <summary>
    /// The reason as a short stable code for counting (<c>image-truncated</c>, <c>shard-corrupt</c>), if the caller
    /// gave one.
    /// </summary>
    public string? Code { get; init; }
}
