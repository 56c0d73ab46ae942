using SkiaSharp;

namespace DataflowContrastive.Augment;

/// <summary>What the header of an encoded image says, read without decoding pixels.</summary>
/// <param name="Format">Format recognised from the bytes themselves, never from a file name.</param>
/// <param name="Width">Width of the upright picture, after the EXIF orientation is applied.</param>
/// <param name="Height">Height of the upright picture, after the EXIF orientation is applied.</param>
/// <param name="Origin">EXIF orientation found in the file; <see cref="SKEncodedOrigin.TopLeft"/> when none.</param>
/// <param name="FrameCount">Number of frames; only the first is ever decoded.</param>
public readonly record struct ImageHeader(
    SKEncodedImageFormat Format, int Width, int Height, SKEncodedOrigin Origin, int FrameCount)
{
    /// <summary>Width times height.</summary>
    public long PixelCount => (long)Width * Height;
}
