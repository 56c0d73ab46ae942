using DataflowContrastive.Augment;
using SkiaSharp;

namespace DataflowContrastive.Tests.Augment;

public class ImageDecoderTests
{
    private static readonly DecodeOptions Defaults = new();

    [Fact]
    public void Truncated_jpeg_is_rejected_as_truncated()
    {
        byte[] bytes = AugmentFixtures.Bug("pillow__truncated_jpeg.jpg");

        ImageRejectedException e = Assert.Throws<ImageRejectedException>(() => ImageDecoder.Decode(bytes, Defaults));

        Assert.Equal(ImageRejectedException.Truncated, e.Reason);
    }

    [Fact]
    public void Truncated_png_is_rejected_as_truncated()
    {
        byte[] bytes = AugmentFixtures.Bug("pillow__truncated_image.png");

        ImageRejectedException e = Assert.Throws<ImageRejectedException>(() => ImageDecoder.Decode(bytes, Defaults));

        Assert.Equal(ImageRejectedException.Truncated, e.Reason);
    }

    [Fact]
    public void Jpeg_cut_anywhere_in_its_scan_is_rejected_as_truncated()
    {
        byte[] whole = File.ReadAllBytes(TestPaths.Shared("data", "skimage-clip", "rocket.jpg"));

        foreach (double fraction in new[] { 0.3, 0.9, 0.999 })
        {
            byte[] cut = whole[..(int)(whole.Length * fraction)];
            ImageRejectedException e = Assert.Throws<ImageRejectedException>(() => ImageDecoder.Decode(cut, Defaults));
            Assert.Equal(ImageRejectedException.Truncated, e.Reason);
        }
    }

    [Fact]
    public void Really_big_bmp_is_refused_from_its_header()
    {
        byte[] bytes = AugmentFixtures.Bug("pillow__reallybig.bmp");

        ImageRejectedException e = Assert.Throws<ImageRejectedException>(() => ImageDecoder.Decode(bytes, Defaults));

        Assert.Equal(ImageRejectedException.TooManyPixels, e.Reason);
    }

    [Fact]
    public void Image_over_the_pixel_budget_is_refused_before_decoding()
    {
        byte[] bytes = File.ReadAllBytes(TestPaths.Shared("data", "skimage-clip", "rocket.jpg"));
        DecodeOptions tight = new() { MaxPixels = (640 * 427) - 1 };

        ImageRejectedException e = Assert.Throws<ImageRejectedException>(() => ImageDecoder.Decode(bytes, tight));

        Assert.Equal(ImageRejectedException.TooManyPixels, e.Reason);
        Assert.Contains("640x427", e.Message, StringComparison.Ordinal);
        Assert.Contains($"images.max_pixels ({(640 * 427) - 1})", e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(new byte[0])]
    [InlineData(new byte[] { 1, 2, 3, 4, 5, 6, 7, 8 })]
    [InlineData(new byte[] { 0x3C, 0x68, 0x74, 0x6D, 0x6C, 0x3E })]
    public void Bytes_of_no_known_format_are_rejected_as_unsupported(byte[] bytes)
    {
        ImageRejectedException e = Assert.Throws<ImageRejectedException>(() => ImageDecoder.Probe(bytes));

        Assert.Equal(ImageRejectedException.UnsupportedFormat, e.Reason);
    }

    [Fact]
    public void Jpeg_start_followed_by_garbage_is_rejected_not_crashed_on()
    {
        byte[] bytes = [0xFF, 0xD8, 0xFF, 0xE0, 0x00, 0x04, 0x00, 0x00, 0xFF, 0xD9];

        ImageRejectedException e = Assert.Throws<ImageRejectedException>(() => ImageDecoder.Decode(bytes, Defaults));

        Assert.Equal(ImageRejectedException.Corrupt, e.Reason);
    }

    [Fact]
    public void Orientation_8_rectangle_stored_2x1_is_1x2()
    {
        byte[] bytes = AugmentFixtures.Bug("pillow__orientation_rectangle.jpg");

        ImageHeader header = ImageDecoder.Probe(bytes);
        using SKBitmap bitmap = ImageDecoder.Decode(bytes, Defaults);

        Assert.Equal(SKEncodedOrigin.LeftBottom, header.Origin);
        Assert.Equal((1, 2), (header.Width, header.Height));
        Assert.Equal((1, 2), (bitmap.Width, bitmap.Height));
    }

    [Fact]
    public void Format_comes_from_the_bytes_not_the_name()
    {
        byte[] bytes = AugmentFixtures.ReadBytes("webp_bytes_named.png");

        ImageHeader header = ImageDecoder.Probe(bytes);

        Assert.Equal(SKEncodedImageFormat.Webp, header.Format);
        Assert.Equal((64, 48), (header.Width, header.Height));
    }

    [Fact]
    public void Animated_gif_reports_its_frames_and_decodes_to_one_picture()
    {
        byte[] bytes = AugmentFixtures.Bug("pillow__iss634.gif");

        ImageHeader header = ImageDecoder.Probe(bytes);

        Assert.Equal(42, header.FrameCount);
        Assert.Equal(SKEncodedImageFormat.Gif, header.Format);
    }

    /// <summary>
    /// Skia and Pillow use the same libjpeg-turbo, libpng, libwebp and GIF arithmetic for these files, and Skia is
    /// given no target colour space (so no profile is applied, as in Pillow): the pixels are required to be equal.
    /// This covers CMYK (Adobe YCCK) conversion, EXIF rotation, palette transparency composited onto white,
    /// 16-bit to 8-bit, the first GIF frame, WebP found from its bytes, and progressive grayscale and colour JPEGs.
    /// </summary>
    [Theory]
    [InlineData("pillow__pil_sample_cmyk.rgb")]
    [InlineData("pillow__hopper_orientation_6.rgb")]
    [InlineData("pillow__orientation_rectangle.rgb")]
    [InlineData("pillow__exif-dpi-zerodivision.rgb")]
    [InlineData("pillow__p_trns_single.rgb")]
    [InlineData("libjpegturbo__monkey16.rgb")]
    [InlineData("pillow__iss634.rgb")]
    [InlineData("webp_bytes_named.rgb")]
    [InlineData("gray_progressive.rgb")]
    [InlineData("color_progressive.rgb")]
    public void Decoded_pixels_equal_pillows(string reference)
    {
        DecodeCase c = AugmentFixtures.Decode(reference);
        byte[] expected = AugmentFixtures.ReadBytes(c.Rgb);

        using SKBitmap bitmap = ImageDecoder.Decode(AugmentFixtures.SourceBytes(c), Defaults);

        Assert.Equal((c.Width, c.Height), (bitmap.Width, bitmap.Height));
        Assert.Equal(SKColorType.Rgba8888, bitmap.ColorType);
        (double mean, int max) = CompareRgb(bitmap, expected);
        Assert.True(max == 0, $"{reference}: mean {mean:F4}, max {max} levels");
    }

    /// <summary>
    /// Where the system's TurboJPEG is present it decodes JPEGs; it must give exactly Skia's pixels, at full and
    /// at reduced scale, so that results do not depend on which machine ran them.
    /// </summary>
    [Theory]
    [InlineData("data/skimage-clip/rocket.jpg", 1)]
    [InlineData("data/skimage-clip/rocket.jpg", 2)]
    [InlineData("data/skimage-clip/rocket.jpg", 8)]
    [InlineData("bugs/images/pillow__exif-dpi-zerodivision.jpg", 1)]
    [InlineData("fixtures/gray_progressive.jpg", 1)]
    [InlineData("fixtures/color_progressive.jpg", 2)]
    public void Jpeg_pixels_equal_skias_own_decode(string file, int denominator)
    {
        byte[] bytes = file.StartsWith("fixtures/", StringComparison.Ordinal)
            ? AugmentFixtures.ReadBytes(file["fixtures/".Length..])
            : File.ReadAllBytes(TestPaths.Shared(file.Split('/')));
        using SKCodec codec = SKCodec.Create(new MemoryStream(bytes));
        SKSizeI size = denominator == 1 ? codec.Info.Size : codec.GetScaledDimensions(1f / denominator);
        using SKBitmap skia = new(new SKImageInfo(size.Width, size.Height, SKColorType.Rgba8888, SKAlphaType.Opaque));
        Assert.Equal(SKCodecResult.Success, codec.GetPixels(skia.Info, skia.GetPixels()));

        using SKBitmap ours = ImageDecoder.Decode(bytes, Defaults, size);

        Assert.Equal((size.Width, size.Height), (ours.Width, ours.Height));
        Assert.True(skia.GetPixelSpan().SequenceEqual(ours.GetPixelSpan()), $"{file} at 1/{denominator} differs");
    }

    [Fact]
    public void Reduced_decode_is_no_smaller_than_asked_and_smaller_than_full()
    {
        byte[] bytes = File.ReadAllBytes(TestPaths.Shared("data", "skimage-clip", "rocket.jpg"));

        using SKBitmap bitmap = ImageDecoder.Decode(bytes, Defaults, new SKSizeI(150, 100));

        Assert.InRange(bitmap.Width, 150, 639);
        Assert.InRange(bitmap.Height, 100, 426);
        Assert.Equal(160, bitmap.Width);
    }

    [Fact]
    public void Reduced_decode_of_a_rotated_jpeg_asks_in_upright_terms()
    {
        byte[] bytes = AugmentFixtures.Bug("pillow__hopper_orientation_6.jpg");

        using SKBitmap bitmap = ImageDecoder.Decode(bytes, Defaults, new SKSizeI(60, 30));

        Assert.Equal((64, 64), (bitmap.Width, bitmap.Height));
    }

    private static (double Mean, int Max) CompareRgb(SKBitmap bitmap, byte[] expectedRgb)
    {
        ReadOnlySpan<byte> rgba = bitmap.GetPixelSpan();
        long sum = 0;
        int max = 0;
        for (int p = 0; p < bitmap.Width * bitmap.Height; p++)
        {
            Assert.Equal(255, rgba[(p * 4) + 3]);
            for (int c = 0; c < 3; c++)
            {
                int d = Math.Abs(rgba[(p * 4) + c] - expectedRgb[(p * 3) + c]);
                sum += d;
                max = Math.Max(max, d);
            }
        }
        return (sum / (3.0 * bitmap.Width * bitmap.Height), max);
    }
}
