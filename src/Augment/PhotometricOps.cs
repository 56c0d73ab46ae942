using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using SkiaSharp;

namespace DataflowContrastive.Augment;

/// <summary>
/// torchvision's colour and blur operations on PIL images, applied in place to an opaque RGBA8888 bitmap. Each
/// keeps torchvision's meaning and Pillow's 8-bit arithmetic (blends truncate, conversions to grayscale round).
/// </summary>
/// <remarks>
/// These run on the small output picture, where Skia's per-call cost dominates: a colour-filter draw of a 224x224
/// picture took 0.5 ms here (0.8 ms with the copy it needs to avoid drawing a bitmap onto itself), a table loop
/// 0.07 ms. So brightness, contrast and solarize are 256-entry tables, saturation and grayscale use Pillow's
/// integer grayscale per pixel (which also makes them exact where a colour matrix was one level off), and hue and
/// blur have their own code. Skia does the decoding, orientation and compositing, where it is the fast path.
/// </remarks>
public static class PhotometricOps
{
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
    /// <c>adjust_saturation</c>: Pillow blends each pixel with its own grayscale L (rounded to a byte),
    /// <c>trunc(L + factor * (v - L))</c>, clipped.
    /// </summary>
    public static void AdjustSaturation(SKBitmap image, float factor)
    {
        CheckImage(image);
        Span<byte> p = image.GetPixelSpan();
        int i = 0;
        if (Vector128.IsHardwareAccelerated)
        {
            ref byte start = ref MemoryMarshal.GetReference(p);
            for (; i + 16 <= p.Length; i += 16)
            {
                ref byte at = ref Unsafe.Add(ref start, i);
                Unsafe.WriteUnaligned(ref at, SaturateFour(Unsafe.ReadUnaligned<Vector128<int>>(ref at), factor));
            }
        }
        for (; i < p.Length; i += 4)
        {
            int l = Luma(p[i], p[i + 1], p[i + 2]);
            p[i] = Blend(l, p[i], factor);
            p[i + 1] = Blend(l, p[i + 1], factor);
            p[i + 2] = Blend(l, p[i + 2], factor);
        }
    }

    /// <summary>
    /// <see cref="AdjustSaturation"/> for four pixels: the same integer luma and the same float blend, so the same
    /// bytes.
    /// </summary>
    private static Vector128<int> SaturateFour(Vector128<int> pixels, float factor)
    {
        Vector128<int> bytes = Vector128.Create(0xFF);
        Vector128<int> r = pixels & bytes;
        Vector128<int> g = Vector128.ShiftRightLogical(pixels, 8) & bytes;
        Vector128<int> b = Vector128.ShiftRightLogical(pixels, 16) & bytes;
        Vector128<int> l = Vector128.ShiftRightArithmetic(
            (r * 19595) + (g * 38470) + (b * 7471) + Vector128.Create(0x8000), 16);
        Vector128<float> degenerate = Vector128.ConvertToSingle(l);
        Vector128<int> red = BlendFour(degenerate, r - l, factor);
        Vector128<int> green = BlendFour(degenerate, g - l, factor);
        Vector128<int> blue = BlendFour(degenerate, b - l, factor);
        return red | Vector128.ShiftLeft(green, 8) | Vector128.ShiftLeft(blue, 16)
            | (pixels & Vector128.Create(unchecked((int)0xFF000000)));
    }

    /// <summary><see cref="Blend"/> for four values, given their differences from the degenerate value.</summary>
    private static Vector128<int> BlendFour(Vector128<float> degenerate, Vector128<int> difference, float factor)
    {
        Vector128<float> x = degenerate + (Vector128.ConvertToSingle(difference) * factor);
        return Vector128.ConvertToInt32(Vector128.Clamp(x, Vector128<float>.Zero, Vector128.Create(255f)));
    }

    /// <summary><c>rgb_to_grayscale</c> with three output channels: Pillow's rounded L in R, G and B.</summary>
    public static void ToGrayscale(SKBitmap image)
    {
        CheckImage(image);
        Span<byte> p = image.GetPixelSpan();
        for (int i = 0; i < p.Length; i += 4)
        {
            byte l = (byte)Luma(p[i], p[i + 1], p[i + 2]);
            p[i] = l;
            p[i + 1] = l;
            p[i + 2] = l;
        }
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
            table[v] = Blend(constant, v, factor);
        }
        return table;
    }

    /// <summary>Pillow's <c>ImagingBlend</c> of one value: float arithmetic, truncated, clipped.</summary>
    private static byte Blend(int degenerate, int value, float factor)
    {
        float x = degenerate + (factor * (value - degenerate));
        return x <= 0 ? (byte)0 : x >= 255 ? (byte)255 : (byte)x;
    }

    /// <summary>Pillow's "L": ITU-R 601-2 luma in 16-bit fixed point, rounded.</summary>
    private static int Luma(byte r, byte g, byte b) => ((r * 19595) + (g * 38470) + (b * 7471) + 0x8000) >> 16;

    /// <summary>Pillow's <c>int(ImageStat.Stat(image.convert("L")).mean[0] + 0.5)</c>.</summary>
    private static int GrayMean(SKBitmap image)
    {
        ReadOnlySpan<byte> p = image.GetPixelSpan();
        long sum = 0;
        for (int i = 0; i < p.Length; i += 4)
        {
            sum += Luma(p[i], p[i + 1], p[i + 2]);
        }
        return (int)((sum / (double)(image.Width * image.Height)) + 0.5);
    }

    private static void ApplyTable(SKBitmap image, byte[] table)
    {
        Span<byte> p = image.GetPixelSpan();
        for (int i = 0; i < p.Length; i += 4)
        {
            p[i] = table[p[i]];
            p[i + 1] = table[p[i + 1]];
            p[i + 2] = table[p[i + 2]];
        }
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
