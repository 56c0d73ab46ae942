namespace DataflowContrastive.Ingest;

/// <summary>One image and its caption on their way into a shard.</summary>
/// <param name="Key">A key unique within the pack.</param>
/// <param name="Image">The encoded image file's bytes, stored as they are.</param>
/// <param name="Caption">The caption, if any.</param>
/// <param name="Label">The class label, if any.</param>
/// <param name="Path">The image's file name or relative path, kept in the image struct's <c>path</c> field.</param>
public sealed record PackItem(string Key, byte[] Image, string? Caption, string? Label, string? Path)
{
    /// <summary>Why the item has no image, which is that its file is missing, naming where it came from; else null.
    /// </summary>
    public string? Problem { get; init; }
}
