using System.Diagnostics;
using SkiaSharp;

namespace DataflowContrastive.Augment;

/// <summary>
/// torchvision's colour and blur operations on PIL images, applied in place to an opaque RGBA8888 bitmap. Each
/// keeps torchvision's meaning and Pillow's 8-bit arithmetic (blends truncate, conversions to grayscale round),
/// and uses Skia where Skia can do the work: lookup tables for brightness, contrast and solarize, colour matrices
/// for saturation and grayscale, Skia's blur for Gaussian blur. Hue goes through Pillow's HSV bytes in managed code.
/// </summary>
public static class PhotometricOps
{
    // Pillow's "L" weights, 16-bit fixed point: (R * 19595 + G * 38470 + B * 7471 + 0x8000) >> 16.
    private const float LumaR = 19595 / 65536f;
    private const float LumaG = 38470 / 65536f;
    private const float LumaB = 7471 / 65536f;

    /// <summary><c>adjust_brightness</c>: Pillow blends with black, <c>trunc(v * factor)</c>, clipped.</summary>
    public static void AdjustBrightness(SKBitmap image, float factor)
    {
        CheckImage(image);
        ApplyTable(image, BlendTable(0, factor));
    }

    /// <summary>
    /// <c>adjust_contrast</c>: Pillow blends with the rounded mean of the image's grayscale,
    /// <c>trunc(mean + factor * (v - mean))</c>, clipped.
    /// </summary>
    public static void AdjustContrast(SKBitmap image, float factor)
    {
        CheckImage(image);
        ApplyTable(image, BlendTable(GrayMean(image), factor));
    }

    /// <summary>
    /// <c>adjust_saturation</c>: a blend with each pixel's grayscale, <c>trunc(L + factor * (v - L))</c>, as one
    /// colour matrix. Pillow rounds L to a byte first and Skia does not, so a value may differ by one level.
    /// </summary>
    public static void AdjustSaturation(SKBitmap image, float factor)
    {
        CheckImage(image);
        float g = 1 - factor;

        // Skia stores round(x); the -0.5 / 255 makes that trunc(x), as Pillow's blend does.
        const float Trunc = -0.5f / 255;
        ApplyMatrix(image, [
            (g * LumaR) + factor, g * LumaG, g * LumaB, 0, Trunc,
            g * LumaR, (g * LumaG) + factor, g * LumaB, 0, Trunc,
            g * LumaR, g * LumaG, (g * LumaB) + factor, 0, Trunc,
            0, 0, 0, 1, 0,
        ]);
    }

    /// <summary><c>rgb_to_grayscale</c> with three output channels: Pillow's rounded L in R, G and B.</summary>
    public static void ToGrayscale(SKBitmap image)
    {
        CheckImage(image);
        ApplyMatrix(image, [
            LumaR, LumaG, LumaB, 0, 0,
            LumaR, LumaG, LumaB, 0, 0,
            LumaR, LumaG, LumaB, 0, 0,
            0, 0, 0, 1, 0,
        ]);
    }

    /// <summary><c>solarize</c>: values at or above <paramref name="threshold"/> are inverted.</summary>
    public static void Solarize(SKBitmap image, int threshold)
    {
        CheckImage(image);
        byte[] table = new byte[256];
        for (int v = 0; v < 256; v++)
        {
            table[v] = (byte)(v >= threshold ? 255 - v : v);
        }
        ApplyTable(image, table);
    }

    /// <summary>
    /// <c>adjust_hue</c>: through Pillow's 8-bit HSV, the hue byte shifted by <c>uint8(hueFactor * 255)</c> with
    /// wrap-around, back to RGB. <paramref name="hueFactor"/> is in [-0.5, 0.5].
    /// </summary>
    public static void AdjustHue(SKBitmap image, double hueFactor)
    {
        CheckImage(image);
        if (!(hueFactor >= -0.5 && hueFactor <= 0.5))
        {
            throw new ArgumentOutOfRangeException(nameof(hueFactor), hueFactor, "Hue must be in [-0.5, 0.5].");
        }
        HueShift.Apply(image.GetPixelSpan(), HueShift.Delta(hueFactor));
    }

    /// <summary>
    /// <c>gaussian_blur</c> with a square kernel of odd side <paramref name="kernelSize"/> and standard deviation
    /// <paramref name="sigma"/>, borders reflected, as torchvision computes it (see <see cref="GaussianBlur"/>).
    /// </summary>
    public static void GaussianBlur(SKBitmap image, int kernelSize, float sigma)
    {
        CheckImage(image);
        if (kernelSize < 1 || kernelSize % 2 == 0)
        {
            throw new ArgumentOutOfRangeException(nameof(kernelSize), kernelSize, "The kernel side must be odd.");
        }
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(sigma);
        Blur.Apply(image.GetPixelSpan(), image.Width, image.Height, kernelSize, sigma);
    }

    /// <summary>Pillow's blend of a constant with each value: trunc(c + f * (v - c)), clipped, in float.</summary>
    private static byte[] BlendTable(int constant, float factor)
    {
        byte[] table = new byte[256];
        for (int v = 0; v < 256; v++)
        {
            float x = constant + (factor * (v - constant));
            table[v] = x <= 0 ? (byte)0 : x >= 255 ? (byte)255 : (byte)x;
        }
        return table;
    }

    /// <summary>Pillow's <c>int(ImageStat.Stat(image.convert("L")).mean[0] + 0.5)</c>.</summary>
    private static int GrayMean(SKBitmap image)
    {
        ReadOnlySpan<byte> p = image.GetPixelSpan();
        long sum = 0;
        for (int i = 0; i < p.Length; i += 4)
        {
            sum += ((p[i] * 19595) + (p[i + 1] * 38470) + (p[i + 2] * 7471) + 0x8000) >> 16;
        }
        return (int)((sum / (double)(image.Width * image.Height)) + 0.5);
    }

    private static void ApplyTable(SKBitmap image, byte[] table)
    {
        byte[] identity = new byte[256];
        for (int v = 0; v < 256; v++)
        {
            identity[v] = (byte)v;
        }
        using SKColorFilter filter = SKColorFilter.CreateTable(identity, table, table, table);
        Draw(image, filter);
    }

    private static void ApplyMatrix(SKBitmap image, float[] matrix)
    {
        using SKColorFilter filter = SKColorFilter.CreateColorMatrix(matrix);
        Draw(image, filter);
    }

    /// <summary>Draws the image through a colour filter into a copy, then back over the original's pixels.</summary>
    private static void Draw(SKBitmap image, SKColorFilter filter)
    {
        using SKBitmap source = image.Copy();
        using SKCanvas canvas = new(image);
        using SKPaint paint = new() { ColorFilter = filter, BlendMode = SKBlendMode.Src };
        canvas.DrawBitmap(source, 0, 0, paint);
    }

    private static void CheckImage(SKBitmap image)
    {
        ArgumentNullException.ThrowIfNull(image);
        if (image.ColorType != SKColorType.Rgba8888 || image.AlphaType != SKAlphaType.Opaque
            || image.RowBytes != image.Width * 4)
        {
            throw new ArgumentException(
                $"Expected packed opaque RGBA8888 pixels; got {image.ColorType}, {image.AlphaType}.", nameof(image));
        }
        Debug.Assert(image.GetPixelSpan().Length == image.Width * image.Height * 4, "Packed rows were checked.");
    }
}
