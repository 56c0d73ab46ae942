namespace DataflowContrastive.Ingest;

/// <summary>One row of a shard as it is stored, before any decoding.</summary>
/// <param name="Shard">Full path of the shard file.</param>
/// <param name="Row">0-based row index in the shard file.</param>
/// <param name="Key">The key column's value if the shard has one, else <c>"{shard file name}:{row}"</c>.</param>
/// <param name="Image">The encoded image bytes, or null where the row holds null.</param>
/// <param name="Caption">The caption, or null where the row holds null or the shard has no caption column.</param>
/// <param name="Label">The label in its string form, or null where there is none.</param>
public sealed record RawSample(string Shard, long Row, string Key, byte[]? Image, string? Caption, string? Label)
{
    /// <summary>
    /// Why a field is null although the file holds a value there (for example an image over
    /// <see cref="IngestOptions.MaxValueBytes"/>); null when every field is as stored.
    /// </summary>
    public string? Problem { get; init; }

    /// <summary>
    /// True when the caption was stored as bytes that are not valid UTF-8: <see cref="Caption"/> then holds
    /// U+FFFD in place of each bad sequence. Detected for top-level caption columns.
    /// </summary>
    public bool CaptionHadInvalidUtf8 { get; init; }
}
