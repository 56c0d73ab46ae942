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
    /// <summary><see cref="ProblemCode"/> of a row holding a value over <see cref="IngestOptions.MaxValueBytes"/>.
    /// </summary>
    public const string RowUnreadable = "row-unreadable";

    /// <summary>
    /// <see cref="ProblemCode"/> of every row of a row group over <see cref="IngestOptions.MaxRowGroupBytes"/>,
    /// which was not loaded.
    /// </summary>
    public const string RowGroupTooLarge = "row-group-too-large";

    /// <summary><see cref="ProblemCode"/> of every row of a row group whose pages are corrupt.</summary>
    public const string RowGroupCorrupt = "row-group-corrupt";

    private readonly string? _problemCode;

    /// <summary>
    /// Why a field is null although the file holds a value there (for example an image over
    /// <see cref="IngestOptions.MaxValueBytes"/>, or a row group that could not be read, which nulls every field);
    /// null when every field is as stored.
    /// </summary>
    public string? Problem { get; init; }

    /// <summary>
    /// The rejection code of <see cref="Problem"/>: <see cref="RowUnreadable"/> unless set to
    /// <see cref="RowGroupTooLarge"/> or <see cref="RowGroupCorrupt"/>; null when <see cref="Problem"/> is.
    /// </summary>
    public string? ProblemCode
    {
        get => Problem is null ? null : _problemCode ?? RowUnreadable;
        init => _problemCode = value;
    }

    /// <summary>
    /// True when the caption was stored as bytes that are not valid UTF-8: <see cref="Caption"/> then holds
    /// U+FFFD in place of each bad sequence. Detected for top-level caption columns.
    /// </summary>
    public bool CaptionHadInvalidUtf8 { get; init; }
}
