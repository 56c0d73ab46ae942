using SkiaSharp;

namespace DataflowContrastive.Augment;

/// <summary>How encoded images are turned into pixels. Bound from the pipeline file's <c>decode</c> section.</summary>
public sealed class DecodeOptions
{
    /// <summary>Pillow's decompression-bomb limit, so the same images pass here as in a PyTorch pipeline.</summary>
    public const long DefaultMaxPixels = 89_478_485;

    /// <summary>
    /// Largest width times height accepted, checked from the header before any pixel memory is allocated.
    /// Default <see cref="DefaultMaxPixels"/> (89,478,485).
    /// </summary>
    public long MaxPixels { get; init; } = DefaultMaxPixels;

    /// <summary>
    /// Colour that transparent pixels are composited onto, for every format alike. Default opaque white.
    /// Its alpha is ignored: the result is always opaque.
    /// </summary>
    public SKColor Background { get; init; } = SKColors.White;

    /// <summary>Throws <see cref="ArgumentException"/> naming the first setting out of range.</summary>
    public void Validate()
    {
        if (MaxPixels <= 0 || MaxPixels > LargestMaxPixels)
        {
            throw new ArgumentException(
                $"decode.MaxPixels must be between 1 and {LargestMaxPixels}; it is {MaxPixels}.", nameof(MaxPixels));
        }
    }

    /// <summary>The most pixels one RGBA array can hold: the upper bound for <see cref="MaxPixels"/>.</summary>
    public static long LargestMaxPixels => Array.MaxLength / 4;
}
