using DataflowContrastive.Augment;
using SkiaSharp;

namespace DataflowContrastive.Tests.Augment;

/// <summary>
/// A crop's rows are decoded by shortening the JPEG's frame height to a little below the crop's bottom. The rows the
/// crop reads must then be exactly those of the whole picture's decode at the same scale: libjpeg's chroma
/// upsampling of the last rows before the shortened end uses the rows below, which the margin keeps.
/// </summary>
public sealed class TurboJpegRowsTests
{
    public static TheoryData<string, int> Pictures()
    {
        TheoryData<string, int> data = [];
        foreach (string file in new[] { "420.jpg", "422.jpg", "444.jpg", "gray.jpg", "coco.jpg" })
        {
            foreach (int denominator in new[] { 1, 2, 4, 8 })
            {
                data.Add(file, denominator);
            }
        }
        return data;
    }

    [Theory]
    [MemberData(nameof(Pictures))]
    public void Rows_above_a_shortened_end_equal_the_whole_decode(string picture, int denominator)
    {
        Assert.True(TurboJpeg.IsAvailable, "libturbojpeg0 is not installed (scripts/setup.sh installs it)");
        byte[] jpeg = Picture(picture);
        using SKCodec codec = SKCodec.Create(new SKMemoryStream(jpeg));
        SKSizeI full = codec.Info.Size;
        Assert.True(TurboJpeg.TryDecode(jpeg, full, denominator, full.Height, out PooledPixels? whole));
        using PooledPixels all = whole;

        foreach (int bottom in Enumerable.Range(1, full.Height))
        {
            int rows = Math.Min(full.Height, bottom + (TurboJpeg.RowsBelow * denominator));
            Assert.True(TurboJpeg.TryDecode(jpeg, full, denominator, rows, out PooledPixels? part));
            using PooledPixels shortened = part;
            int needed = (bottom + denominator - 1) / denominator;
            Assert.True(shortened.Height >= needed, $"bottom {bottom}: {shortened.Height} rows decoded");
            int bytes = needed * all.RowBytes;
            Assert.True(all.Span[..bytes].SequenceEqual(shortened.Span[..bytes]),
                $"{picture} at 1/{denominator}, bottom {bottom}: the rows differ from the whole decode");
        }
    }

    // JPEGs of each chroma subsampling, made by Skia's encoder from one photo, and a COCO photo as a camera made it.
    private static byte[] Picture(string name)
    {
        if (name == "coco.jpg")
        {
            return File.ReadAllBytes(Directory.GetFiles(TestPaths.Shared("data", "coco-mini"), "*.jpg",
                SearchOption.AllDirectories).Order(StringComparer.Ordinal).First());
        }
        using SKBitmap source = SKBitmap.Decode(TestPaths.Shared("data", "skimage-clip", "chelsea.png"));
        SKJpegEncoderDownsample downsample = name switch
        {
            "422.jpg" => SKJpegEncoderDownsample.Downsample422,
            "444.jpg" => SKJpegEncoderDownsample.Downsample444,
            _ => SKJpegEncoderDownsample.Downsample420,
        };
        using SKBitmap picked = name == "gray.jpg" ? Gray(source) : source.Copy();
        using SKPixmap pixmap = picked.PeekPixels();
        using SKData? data = pixmap.Encode(new SKJpegEncoderOptions(90, downsample, SKJpegEncoderAlphaOption.Ignore));
        return Assert.IsType<SKData>(data).ToArray();
    }

    private static SKBitmap Gray(SKBitmap source)
    {
        SKBitmap gray = new(new SKImageInfo(source.Width, source.Height, SKColorType.Gray8, SKAlphaType.Opaque));
        using SKCanvas canvas = new(gray);
        canvas.DrawBitmap(source, 0, 0);
        return gray;
    }
}
