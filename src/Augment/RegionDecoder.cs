using System.Diagnostics.CodeAnalysis;
using SkiaSharp;

namespace DataflowContrastive.Augment;

/// <summary>
/// Decodes only the part of a JPEG that a crop reads, when the system's TurboJPEG is missing: libjpeg-turbo crops
/// the columns (whole MCUs) and skips the colour conversion of rows above; rows below are never decoded.
/// The file's completeness was checked from its markers before, so stopping early does not hide truncation.
/// </summary>
internal static class RegionDecoder
{
    /// <summary>
    /// Decoded pixels kept around the region: libjpeg's upsampling near a cropped edge may differ from a full
    /// decode, and the resize never reads outside the region itself, so a margin makes the kept pixels exact.
    /// </summary>
    public const int Margin = 16;

    public static unsafe bool TryDecode(SKCodec codec, SKSizeI size, int denominator, SKRectI region,
        [NotNullWhen(true)] out PooledPixels? pixels)
    {
        pixels = null;
        SKRectI scaled = ScaledWithMargin(size, denominator, region);
        // Measured on COCO photos: against Skia's whole decode a region pays off up to three quarters of the picture.
        if (scaled.Width * (double)scaled.Height > size.Width * (double)size.Height * 0.75)
        {
            return false;
        }

        // Skia subsets scanline decodes in x only; the subset spans every row and rows are skipped by hand.
        SKImageInfo info = new(size.Width, size.Height, SKColorType.Rgba8888, SKAlphaType.Opaque);
        SKCodecOptions options = new(new SKRectI(scaled.Left, 0, scaled.Right, size.Height));
        if (codec.StartScanlineDecode(info, options) != SKCodecResult.Success)
        {
            return false;
        }

        // libjpeg-turbo widens the subset to whole MCUs; Skia trims its scanlines back to the subset asked for.
        PooledPixels part = PooledPixels.Rent(scaled.Width, scaled.Height);
        try
        {
            if (scaled.Top > 0 && !codec.SkipScanlines(scaled.Top))
            {
                throw Truncated();
            }
            int rows;
            fixed (byte* p = part.Span)
            {
                rows = codec.GetScanlines((IntPtr)p, scaled.Height, part.RowBytes);
            }
            if (rows != scaled.Height)
            {
                throw Truncated();
            }
            part.Scale = 1.0 / denominator;
            part.Left = scaled.Left;
            part.Top = scaled.Top;
            pixels = part;
            return true;
        }
        catch
        {
            part.Dispose();
            throw;
        }
    }

    private static SKRectI ScaledWithMargin(SKSizeI size, int denominator, SKRectI region)
    {
        int left = Math.Max(0, (region.Left / denominator) - Margin);
        int top = Math.Max(0, (region.Top / denominator) - Margin);
        int right = Math.Min(size.Width, ((region.Right + denominator - 1) / denominator) + Margin);
        int bottom = Math.Min(size.Height, ((region.Bottom + denominator - 1) / denominator) + Margin);
        return new SKRectI(left, top, right, bottom);
    }

    private static ImageRejectedException Truncated() => new(ImageRejectedException.Truncated,
        "The JPEG decoder ran out of data inside the region being decoded.");
}
