using SkiaSharp;

namespace DataflowContrastive.Augment;

/// <summary>Turns pixels stored in an EXIF orientation into the upright picture.</summary>
internal static class Orientation
{
    public static unsafe PooledPixels Apply(PooledPixels stored, SKEncodedOrigin origin)
    {
        int w = stored.Width;
        int h = stored.Height;
        bool swap = ImageDecoder.SwapsAxes(origin);
        PooledPixels upright = PooledPixels.Rent(swap ? h : w, swap ? w : h);
        SKImageInfo source = new(w, h, SKColorType.Rgba8888, SKAlphaType.Opaque);
        SKImageInfo target = new(upright.Width, upright.Height, SKColorType.Rgba8888, SKAlphaType.Opaque);

        fixed (byte* from = stored.Span)
        fixed (byte* to = upright.Span)
        {
            using SKBitmap src = new();
            using SKBitmap dst = new();
            src.InstallPixels(source, (IntPtr)from, stored.RowBytes);
            dst.InstallPixels(target, (IntPtr)to, upright.RowBytes);
            using SKCanvas canvas = new(dst);

            // Whole-pixel rotations and mirrors: every source pixel lands exactly on one target pixel.
            canvas.SetMatrix(ToUpright(origin, w, h));
            canvas.DrawBitmap(src, 0, 0);
        }
        return upright;
    }

    /// <summary>The matrix taking stored coordinates (width w, height h) to upright ones.</summary>
    private static SKMatrix ToUpright(SKEncodedOrigin origin, int w, int h) => origin switch
    {
        SKEncodedOrigin.TopRight => new SKMatrix(-1, 0, w, 0, 1, 0, 0, 0, 1),
        SKEncodedOrigin.BottomRight => new SKMatrix(-1, 0, w, 0, -1, h, 0, 0, 1),
        SKEncodedOrigin.BottomLeft => new SKMatrix(1, 0, 0, 0, -1, h, 0, 0, 1),
        SKEncodedOrigin.LeftTop => new SKMatrix(0, 1, 0, 1, 0, 0, 0, 0, 1),
        SKEncodedOrigin.RightTop => new SKMatrix(0, -1, h, 1, 0, 0, 0, 0, 1),
        SKEncodedOrigin.RightBottom => new SKMatrix(0, -1, h, -1, 0, w, 0, 0, 1),
        SKEncodedOrigin.LeftBottom => new SKMatrix(0, 1, 0, -1, 0, w, 0, 0, 1),
        _ => SKMatrix.Identity,
    };
}
