using SkiaSharp;

namespace DataflowContrastive.Augment;

/// <summary>One draw of <see cref="ColorJitter"/>: the order of the four ops and their factors.</summary>
/// <param name="Order">Permutation of 0 brightness, 1 contrast, 2 saturation, 3 hue.</param>
/// <param name="Brightness">Brightness factor; 1 leaves the image unchanged.</param>
/// <param name="Contrast">Contrast factor; 1 leaves the image unchanged.</param>
/// <param name="Saturation">Saturation factor; 1 leaves the image unchanged.</param>
/// <param name="Hue">Hue shift in [-0.5, 0.5]; 0 leaves the image unchanged.</param>
public sealed record ColorJitterParams(
    IReadOnlyList<int> Order, float Brightness, float Contrast, float Saturation, double Hue);

/// <summary>
/// torchvision's <c>ColorJitter(brightness, contrast, saturation, hue)</c>: factors drawn uniformly from
/// [max(0, 1 - x), 1 + x] (hue from [-h, h]), the four ops applied in a random order.
/// </summary>
public sealed class ColorJitter
{
    private readonly double _brightness;
    private readonly double _contrast;
    private readonly double _saturation;
    private readonly double _hue;

    /// <summary>Creates the jitter; each strength is non-negative, hue at most 0.5; 0 turns that op off.</summary>
    public ColorJitter(double brightness, double contrast, double saturation, double hue)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(brightness);
        ArgumentOutOfRangeException.ThrowIfNegative(contrast);
        ArgumentOutOfRangeException.ThrowIfNegative(saturation);
        ArgumentOutOfRangeException.ThrowIfNegative(hue);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(hue, 0.5);
        (_brightness, _contrast, _saturation, _hue) = (brightness, contrast, saturation, hue);
    }

    /// <summary>Draws the order (a uniform permutation), then brightness, contrast, saturation and hue.</summary>
    public ColorJitterParams GetParams(IUniformRandom rng)
    {
        ArgumentNullException.ThrowIfNull(rng);
        int[] order = [0, 1, 2, 3];
        for (int i = order.Length - 1; i > 0; i--)
        {
            int j = rng.NextInt(0, i + 1);
            (order[i], order[j]) = (order[j], order[i]);
        }
        float b = Factor(_brightness, rng);
        float c = Factor(_contrast, rng);
        float s = Factor(_saturation, rng);
        double h = _hue > 0 ? rng.NextDouble(-_hue, _hue) : 0;
        return new ColorJitterParams(order, b, c, s, h);
    }

    /// <summary>Applies the drawn ops in their order; ops with a neutral factor are skipped.</summary>
    public static void Apply(SKBitmap image, ColorJitterParams p)
    {
        ArgumentNullException.ThrowIfNull(p);
        foreach (int op in p.Order)
        {
            switch (op)
            {
                case 0 when p.Brightness != 1:
                    PhotometricOps.AdjustBrightness(image, p.Brightness);
                    break;
                case 1 when p.Contrast != 1:
                    PhotometricOps.AdjustContrast(image, p.Contrast);
                    break;
                case 2 when p.Saturation != 1:
                    PhotometricOps.AdjustSaturation(image, p.Saturation);
                    break;
                case 3 when p.Hue != 0:
                    PhotometricOps.AdjustHue(image, p.Hue);
                    break;
                default:
                    break;
            }
        }
    }

    private static float Factor(double strength, IUniformRandom rng) =>
        strength > 0 ? (float)rng.NextDouble(Math.Max(0, 1 - strength), 1 + strength) : 1f;
}
