using System.Text.Json;
using DataflowContrastive.Augment;
using SkiaSharp;

namespace DataflowContrastive.Tests.Augment;

public class PhotometricOpsTests
{
    /// <summary>
    /// Exact (0 levels) for the colour ops, which follow Pillow's own 8-bit arithmetic; one level for blur, where
    /// torch sums a 2-D kernel and we sum two 1-D passes, in another float order and without the taps lighter
    /// than 1e-7.
    /// </summary>
    [Theory]
    [InlineData("brightness_0.35", 0)]
    [InlineData("brightness_1.7", 0)]
    [InlineData("contrast_0.5", 0)]
    [InlineData("contrast_1.6", 0)]
    [InlineData("saturation_0.3", 0)]
    [InlineData("saturation_1.8", 0)]
    [InlineData("hue_-0.5", 0)]
    [InlineData("hue_-0.15", 0)]
    [InlineData("hue_0.2", 0)]
    [InlineData("hue_0.5", 0)]
    [InlineData("grayscale", 0)]
    [InlineData("solarize_128", 0)]
    [InlineData("blur_7_0.6", 1)]
    [InlineData("blur_9_2.0", 1)]
    [InlineData("blur_23_1.3", 1)]
    public void Op_matches_torchvision(string name, int maxLevels)
    {
        OpCase c = Cases.Single(x => x.Name == name);
        using SKBitmap image = Base();

        Apply(image, c.Op, c.Params);

        (double mean, int max) = Compare(image, AugmentFixtures.ReadBytes(c.Rgb));
        Assert.True(max <= maxLevels, $"{name}: mean {mean:F4}, max {max} levels");
    }

    [Fact]
    public void Color_jitter_applies_its_four_ops_in_the_drawn_order()
    {
        // torchvision drew order [2, 0, 3, 1] (saturation, brightness, hue, contrast) and factors b 1.3, c 0.7,
        // s 1.5, h -0.1. Every op follows Pillow's 8-bit arithmetic, so the chain is required to be exact.
        OpCase c = Cases.Single(x => x.Name == "jitter_2031");
        using SKBitmap image = Base();

        ColorJitter.Apply(image, new ColorJitterParams([2, 0, 3, 1], 1.3f, 0.7f, 1.5f, -0.1));

        (double mean, int max) = Compare(image, AugmentFixtures.ReadBytes(c.Rgb));
        Assert.True(max == 0, $"mean {mean:F4}, max {max} levels");
    }

    [Fact]
    public void Color_jitter_draws_a_permutation_and_factors_in_range()
    {
        ColorJitter jitter = new(0.8, 0.8, 0.8, 0.2);
        for (long i = 0; i < 200; i++)
        {
            ColorJitterParams p = jitter.GetParams(new SampleSeed(1, 0, i, 0).CreateRandom());

            Assert.Equal([0, 1, 2, 3], p.Order.Order());
            Assert.InRange(p.Brightness, 0.2f, 1.8f);
            Assert.InRange(p.Contrast, 0.2f, 1.8f);
            Assert.InRange(p.Saturation, 0.2f, 1.8f);
            Assert.InRange(p.Hue, -0.2, 0.2);
        }
    }

    [Fact]
    public void Grayscale_blur_and_solarize_keep_the_picture_opaque_and_sized()
    {
        using SKBitmap image = Base();

        PhotometricOps.ToGrayscale(image);
        PhotometricOps.GaussianBlur(image, 3, 0.5f);
        PhotometricOps.Solarize(image, 100);

        Assert.Equal((64, 64, SKAlphaType.Opaque), (image.Width, image.Height, image.AlphaType));
        ReadOnlySpan<byte> p = image.GetPixelSpan();
        for (int i = 0; i < p.Length; i += 4)
        {
            Assert.Equal((p[i], p[i], 255), (p[i + 1], p[i + 2], p[i + 3]));
        }
    }

    private static void Apply(SKBitmap image, string op, double[] p)
    {
        switch (op)
        {
            case "brightness": PhotometricOps.AdjustBrightness(image, (float)p[0]); break;
            case "contrast": PhotometricOps.AdjustContrast(image, (float)p[0]); break;
            case "saturation": PhotometricOps.AdjustSaturation(image, (float)p[0]); break;
            case "hue": PhotometricOps.AdjustHue(image, p[0]); break;
            case "grayscale": PhotometricOps.ToGrayscale(image); break;
            case "solarize": PhotometricOps.Solarize(image, (int)p[0]); break;
            case "blur": PhotometricOps.GaussianBlur(image, (int)p[0], (float)p[1]); break;
            default: throw new InvalidDataException(op);
        }
    }

    private static IReadOnlyList<OpCase> Cases => LazyCases.Value;

    private static readonly Lazy<IReadOnlyList<OpCase>> LazyCases = new(() =>
    {
        using JsonDocument doc = JsonDocument.Parse(File.ReadAllText(AugmentFixtures.Path("manifest.json")));
        return [.. doc.RootElement.GetProperty("ops").GetProperty("cases").EnumerateArray().Select(e => new OpCase(
            e.GetProperty("name").GetString()!, e.GetProperty("op").GetString()!,
            [.. e.GetProperty("params").EnumerateArray().Select(v => v.GetDouble())],
            e.GetProperty("rgb").GetString()!))];
    });

    private static SKBitmap Base()
    {
        byte[] rgb = AugmentFixtures.ReadBytes("ops_base.rgb");
        SKBitmap image = new(new SKImageInfo(64, 64, SKColorType.Rgba8888, SKAlphaType.Opaque));
        Span<byte> p = image.GetPixelSpan();
        for (int i = 0; i < 64 * 64; i++)
        {
            p[i * 4] = rgb[i * 3];
            p[(i * 4) + 1] = rgb[(i * 3) + 1];
            p[(i * 4) + 2] = rgb[(i * 3) + 2];
            p[(i * 4) + 3] = 255;
        }
        return image;
    }

    private static (double Mean, int Max) Compare(SKBitmap image, byte[] expectedRgb)
    {
        ReadOnlySpan<byte> rgba = image.GetPixelSpan();
        long sum = 0;
        int max = 0;
        for (int p = 0; p < image.Width * image.Height; p++)
        {
            for (int c = 0; c < 3; c++)
            {
                int d = Math.Abs(rgba[(p * 4) + c] - expectedRgb[(p * 3) + c]);
                sum += d;
                max = Math.Max(max, d);
            }
        }
        return (sum / (3.0 * image.Width * image.Height), max);
    }

    private sealed record OpCase(string Name, string Op, double[] Params, string Rgb);
}
