namespace DataflowContrastive.Augment;

/// <summary>
/// The one exception for encoded image bytes that cannot become a sample: truncated, corrupt, too large, or in a
/// format we do not decode. Callers catch it, count the rejection with its <see cref="Reason"/>, and go on.
/// </summary>
public sealed class ImageRejectedException : Exception
{
    /// <summary>The data ended before the image did (no JPEG end marker, no PNG IEND, short RIFF body).</summary>
    public const string Truncated = "truncated";

    /// <summary>The header declares more pixels than <see cref="DecodeOptions.MaxPixels"/> allows.</summary>
    public const string TooManyPixels = "too-many-pixels";

    /// <summary>The bytes are not in a format the decoder knows.</summary>
    public const string UnsupportedFormat = "unsupported-format";

    /// <summary>The format is known but the decoder found invalid data.</summary>
    public const string Corrupt = "corrupt";

    /// <summary>Creates a rejection with a short <paramref name="reason"/> and a sentence for people.</summary>
    public ImageRejectedException(string reason, string message)
        : base(message)
    {
        ArgumentException.ThrowIfNullOrEmpty(reason);
        Reason = reason;
    }

    /// <summary>Creates a rejection without details; the reason is <see cref="Corrupt"/>.</summary>
    public ImageRejectedException()
        : this(Corrupt, "The image is corrupt.")
    {
    }

    /// <summary>Creates a rejection whose reason is <see cref="Corrupt"/>.</summary>
    public ImageRejectedException(string message)
        : this(Corrupt, message)
    {
    }

    /// <summary>Creates a rejection whose reason is <see cref="Corrupt"/>, caused by <paramref name="inner"/>.
    /// </summary>
    public ImageRejectedException(string message, Exception inner)
        : base(message, inner)
    {
        Reason = Corrupt;
    }

    /// <summary>
    /// Short reason: <c>truncated</c>, <c>too-many-pixels</c>, <c>unsupported-format</c> or <c>corrupt</c>.
    /// </summary>
    public string Reason { get; }
}
