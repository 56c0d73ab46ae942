namespace DataflowContrastive.Ingest;

/// <summary>One image and its caption on their way into a shard.</summary>
/// <param name="Key">A key unique within the pack.</param>
/// <param name="Image">The encoded image file's bytes, stored as they are.</param>
/// <param name="Caption">The caption, if any.</param>
/// <param name="Label">The class label, if any.</param>
/// <param name="Path">The image's file name or relative path, kept in the image struct's <c>path</c> field.</param>
public sealed record PackItem(string Key, byte[] Image, string? Caption, string? Label, string? Path)
{
    /// <summary><see cref="ProblemCode"/> of an item whose image file is missing.</summary>
    public const string MissingFile = "missing";

    /// <summary><see cref="ProblemCode"/> of a table line with fewer fields than the table's header.</summary>
    public const string FieldsMissing = "fields-missing";

    /// <summary>Why the item cannot be packed (its file is missing, its table line lacks a field), naming where it
    /// came from; else null.</summary>
    public string? Problem { get; init; }

    /// <summary>The kind of <see cref="Problem"/>: <see cref="MissingFile"/> or <see cref="FieldsMissing"/>.</summary>
    public string ProblemCode { get; init; } = MissingFile;
}
