using System.Diagnostics;
using SkiaSharp;

namespace DataflowContrastive.Augment;

/// <summary>
/// Turns encoded bytes into upright, opaque 8-bit RGB pixels, or rejects them with
/// <see cref="ImageRejectedException"/>. The format is found from the bytes, never from a name. Only the first
/// frame of an animated image is used. Embedded colour profiles are not applied, as Pillow does not apply them.
/// </summary>
public static class ImageDecoder
{
    /// <summary>Reads the header: format, upright size, orientation and frame count. No pixels are decoded.</summary>
    /// <exception cref="ImageRejectedException">The bytes are not an image we can read.</exception>
    public static ImageHeader Probe(ReadOnlySpan<byte> encoded)
    {
        return Open(encoded, static (_, header, _) => header);
    }

    /// <summary>
    /// Decodes the first frame to an RGBA8888 bitmap that is opaque and upright (EXIF orientation applied), with
    /// transparency composited onto <see cref="DecodeOptions.Background"/>. CMYK, YCCK, grayscale, palette and
    /// 16-bit sources all come out as 8-bit RGB.
    /// </summary>
    /// <param name="encoded">The file's bytes.</param>
    /// <param name="options">Pixel budget and background.</param>
    /// <param name="atLeast">
    /// When set, a JPEG may be decoded at a reduced DCT scale (1/2, 1/4 or 1/8) as long as the upright result is at
    /// least this size; other formats are always decoded at full size.
    /// </param>
    /// <exception cref="ImageRejectedException">Truncated, corrupt, too large or unsupported data.</exception>
    public static SKBitmap Decode(ReadOnlySpan<byte> encoded, DecodeOptions options, SKSizeI? atLeast = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        using PooledPixels pixels = DecodePooled(encoded, options, _ => new DecodePlan(atLeast, null), out _);
        SKBitmap bitmap = new(new SKImageInfo(pixels.Width, pixels.Height, SKColorType.Rgba8888, SKAlphaType.Opaque));
        pixels.Span.CopyTo(bitmap.GetPixelSpan());
        return bitmap;
    }

    /// <summary>
    /// The decode used on the hot path: <paramref name="plan"/> sees the header (after the pixel budget is checked)
    /// and says what it needs: the smallest upright size, and the region it will read.
    /// </summary>
    internal static PooledPixels DecodePooled(
        ReadOnlySpan<byte> encoded, DecodeOptions options, Func<ImageHeader, DecodePlan> plan, out ImageHeader header)
    {
        (PooledPixels Pixels, ImageHeader Header) result = Open(encoded, (codec, h, bytes) =>
        {
            if (h.PixelCount > options.MaxPixels)
            {
                throw new ImageRejectedException(ImageRejectedException.TooManyPixels,
                    $"The {h.Format} header declares {h.Width}x{h.Height} pixels, more than "
                    + $"images.max_pixels ({options.MaxPixels}) allows.");
            }
            return (DecodeFirstFrame(codec, h, bytes, options, plan(h)), h);
        });
        header = result.Header;
        return result.Pixels;
    }

    /// <summary>Opens a codec over the bytes without copying them and hands it, with its header, to use.</summary>
    private static unsafe T Open<T>(ReadOnlySpan<byte> encoded, Func<SKCodec, ImageHeader, PinnedBytes, T> use)
    {
        SKEncodedImageFormat? sniffed = EncodedIntegrity.Sniff(encoded);
        if (sniffed is null)
        {
            throw new ImageRejectedException(ImageRejectedException.UnsupportedFormat,
                $"The {encoded.Length} bytes do not start like any image format we decode.");
        }
        switch (EncodedIntegrity.Check(encoded, sniffed.Value))
        {
            case EncodedIntegrity.Completeness.Truncated:
                throw new ImageRejectedException(ImageRejectedException.Truncated,
                    $"The {sniffed} data ends before the image does ({encoded.Length} bytes).");
            case EncodedIntegrity.Completeness.Damaged:
                throw new ImageRejectedException(ImageRejectedException.Corrupt,
                    $"The {sniffed}'s data is damaged: it ends with the end marker ({encoded.Length} bytes), " +
                    "but its markers do not lead there.");
        }

        fixed (byte* start = encoded)
        {
            // The SKData only borrows the bytes; both it and the codec are gone before the span is unpinned.
            using SKData data = SKData.Create((IntPtr)start, encoded.Length);
            using SKCodec? codec = SKCodec.Create(data);
            if (codec is null)
            {
                RejectUnopenable(encoded, sniffed.Value);
            }
            return use(codec, HeaderOf(codec), new PinnedBytes((IntPtr)start, encoded.Length));
        }
    }

    private static ImageHeader HeaderOf(SKCodec codec)
    {
        SKImageInfo info = codec.Info;
        SKEncodedOrigin origin = codec.EncodedOrigin;
        bool swap = SwapsAxes(origin);
        return new ImageHeader(codec.EncodedFormat, swap ? info.Height : info.Width, swap ? info.Width : info.Height,
            origin, Math.Max(1, codec.FrameCount));
    }

    [System.Diagnostics.CodeAnalysis.DoesNotReturn]
    private static void RejectUnopenable(ReadOnlySpan<byte> encoded, SKEncodedImageFormat format)
    {
        // Skia refuses some headers outright (a BMP claiming trillions of pixels); say so as the budget would.
        if (HeaderDimensions.TryRead(encoded, format, out long width, out long height)
            && width * height > DecodeOptions.LargestMaxPixels)
        {
            throw new ImageRejectedException(ImageRejectedException.TooManyPixels,
                $"The {format} header declares {width}x{height} pixels, more than any budget allows.");
        }
        throw new ImageRejectedException(ImageRejectedException.Corrupt,
            $"The {format} header ({encoded.Length} bytes) could not be read.");
    }

    private static PooledPixels DecodeFirstFrame(
        SKCodec codec, ImageHeader header, PinnedBytes bytes, DecodeOptions options, DecodePlan plan)
    {
        (SKSizeI size, int denominator) = ChooseDecodeSize(codec, header, plan.AtLeast);
        bool opaque = codec.Info.AlphaType == SKAlphaType.Opaque;
        if (header.Format == SKEncodedImageFormat.Jpeg)
        {
            PooledPixels? jpeg = DecodeJpegFast(codec, header, bytes, plan, size, denominator);
            if (jpeg is not null)
            {
                return jpeg;
            }
        }

        // No colour space on the target: Skia then leaves the encoded values alone, as Pillow does.
        SKImageInfo info = new(size.Width, size.Height, SKColorType.Rgba8888,
            opaque ? SKAlphaType.Opaque : SKAlphaType.Premul);
        PooledPixels pixels = PooledPixels.Rent(size.Width, size.Height);
        try
        {
            ReadPixels(codec, info, pixels, header.Format);
            if (!opaque)
            {
                Composite(pixels, options.Background);
            }
            return Upright(pixels, header.Origin, denominator);
        }
        catch
        {
            pixels.Dispose();
            throw;
        }
    }

    // Turns decoded pixels upright by the EXIF origin and records the decode scale; the stored pixels are released.
    private static PooledPixels Upright(PooledPixels pixels, SKEncodedOrigin origin, int denominator)
    {
        if (origin is not SKEncodedOrigin.TopLeft)
        {
            using PooledPixels stored = pixels;
            pixels = Orientation.Apply(stored, origin);
        }
        pixels.Scale = 1.0 / denominator;
        return pixels;
    }

    /// <summary>
    /// The fast JPEG paths, or null for the general one: the system's SIMD TurboJPEG, stopping below the rows a crop
    /// reads, or without it only the region around a small crop through Skia.
    /// </summary>
    private static PooledPixels? DecodeJpegFast(
        SKCodec codec, ImageHeader header, PinnedBytes bytes, DecodePlan plan, SKSizeI size, int denominator)
    {
        bool upright = header.Origin == SKEncodedOrigin.TopLeft;
        if (!TurboJpeg.IsAvailable)
        {
            return upright && plan.Region is { } region
                && RegionDecoder.TryDecode(codec, size, denominator, region, out PooledPixels? part) ? part : null;
        }

        // Rows below the region are not decoded; a margin keeps the upsampling of the last rows read exact.
        SKSizeI stored = codec.Info.Size;
        int rows = upright && plan.Region is { } r
            ? Math.Min(stored.Height, r.Bottom + (TurboJpeg.RowsBelow * denominator)) : stored.Height;
        if (!TurboJpeg.TryDecode(bytes.Span, stored, denominator, rows, out PooledPixels? pixels))
        {
            return null;
        }
        Debug.Assert(pixels.Width == size.Width, "TurboJPEG and Skia scale alike.");
        return Upright(pixels, header.Origin, denominator);
    }

    /// <summary>
    /// Full size, or the smallest of libjpeg's 1/8, 1/4 and 1/2 DCT scales (the ones Skia decodes to) that is no
    /// smaller than asked.
    /// </summary>
    private static (SKSizeI Size, int Denominator) ChooseDecodeSize(
        SKCodec codec, ImageHeader header, SKSizeI? atLeast)
    {
        SKSizeI full = codec.Info.Size;
        if (atLeast is not { } wanted || header.Format != SKEncodedImageFormat.Jpeg)
        {
            return (full, 1);
        }

        // The codec works in stored orientation; the caller asked in upright orientation.
        SKSizeI need = SwapsAxes(header.Origin) ? new SKSizeI(wanted.Height, wanted.Width) : wanted;
        foreach (int denominator in (ReadOnlySpan<int>)[8, 4, 2])
        {
            SKSizeI scaled = codec.GetScaledDimensions(1f / denominator);
            bool exact = scaled.Width == (full.Width + denominator - 1) / denominator
                && scaled.Height == (full.Height + denominator - 1) / denominator;
            if (exact && scaled.Width >= need.Width && scaled.Height >= need.Height)
            {
                return (scaled, denominator);
            }
        }
        return (full, 1);
    }

    private static unsafe void ReadPixels(SKCodec codec, SKImageInfo info, PooledPixels pixels, SKEncodedImageFormat f)
    {
        SKCodecResult result;
        fixed (byte* p = pixels.Span)
        {
            result = codec.GetPixels(info, (IntPtr)p, pixels.RowBytes, new SKCodecOptions(0));
        }
        ThrowUnlessSuccess(result, f);
    }

    /// <summary>Maps a codec result to a rejection with the matching reason.</summary>
    internal static void ThrowUnlessSuccess(SKCodecResult result, SKEncodedImageFormat f)
    {
        switch (result)
        {
            case SKCodecResult.Success:
                return;
            case SKCodecResult.IncompleteInput:
                throw new ImageRejectedException(ImageRejectedException.Truncated,
                    $"The {f} decoder ran out of data before the first frame was complete.");
            case SKCodecResult.Unimplemented or SKCodecResult.InvalidConversion:
                throw new ImageRejectedException(ImageRejectedException.UnsupportedFormat,
                    $"The {f} decoder cannot produce 8-bit RGB from this file ({result}).");
            default:
                throw new ImageRejectedException(ImageRejectedException.Corrupt,
                    $"The {f} decoder failed: {result}.");
        }
    }

    /// <summary>Puts the background behind premultiplied pixels in place, leaving them opaque.</summary>
    private static unsafe void Composite(PooledPixels pixels, SKColor background)
    {
        SKImageInfo info = new(pixels.Width, pixels.Height, SKColorType.Rgba8888, SKAlphaType.Premul);
        fixed (byte* p = pixels.Span)
        {
            using SKBitmap bitmap = new();
            bool installed = bitmap.InstallPixels(info, (IntPtr)p, pixels.RowBytes);
            Debug.Assert(installed, "RGBA8888 premultiplied is always installable.");
            using SKCanvas canvas = new(bitmap);
            canvas.DrawColor(background.WithAlpha(255), SKBlendMode.DstOver);
        }
    }

    /// <summary>The encoded bytes, pinned by <see cref="Open{T}"/> for as long as its callback runs.</summary>
    private readonly unsafe record struct PinnedBytes(IntPtr Start, int Length)
    {
        public ReadOnlySpan<byte> Span => new((void*)Start, Length);
    }

    internal static bool SwapsAxes(SKEncodedOrigin origin) => origin is SKEncodedOrigin.LeftTop
        or SKEncodedOrigin.RightTop or SKEncodedOrigin.RightBottom or SKEncodedOrigin.LeftBottom;
}
