namespace DataflowContrastive.Augment;

/// <summary>A crop box in upright source pixels, in torchvision's (top, left, height, width) order.</summary>
public readonly record struct CropBox(int Top, int Left, int Height, int Width);

/// <summary>torchvision's <c>RandomResizedCrop</c> parameter choice.</summary>
public static class RandomResizedCrop
{
    private const int Attempts = 10;

    /// <summary>
    /// Picks a box covering a random fraction of the area (in <paramref name="scaleMin"/>..<paramref name="scaleMax"/>)
    /// with a random aspect ratio drawn uniformly in log space: ten attempts, then the central crop clamped to the
    /// ratio range, exactly as <c>torchvision.transforms.RandomResizedCrop.get_params</c>. Python's round-half-even
    /// is kept.
    /// </summary>
    /// <remarks>
    /// Draw order per attempt: area fraction, log ratio, then (on success) top and left.
    /// </remarks>
    public static CropBox GetParams(int width, int height, double scaleMin, double scaleMax, double ratioMin,
        double ratioMax, IUniformRandom rng)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(width);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(height);
        ArgumentNullException.ThrowIfNull(rng);

        double area = (double)height * width;
        double logMin = Math.Log(ratioMin);
        double logMax = Math.Log(ratioMax);
        for (int attempt = 0; attempt < Attempts; attempt++)
        {
            double targetArea = area * rng.NextDouble(scaleMin, scaleMax);
            double aspect = Math.Exp(rng.NextDouble(logMin, logMax));
            int w = (int)Math.Round(Math.Sqrt(targetArea * aspect));
            int h = (int)Math.Round(Math.Sqrt(targetArea / aspect));
            if (w > 0 && w <= width && h > 0 && h <= height)
            {
                int top = rng.NextInt(0, height - h + 1);
                int left = rng.NextInt(0, width - w + 1);
                return new CropBox(top, left, h, w);
            }
        }
        return CentralFallback(width, height, Math.Min(ratioMin, ratioMax), Math.Max(ratioMin, ratioMax));
    }

    /// <summary>
    /// <see cref="GetParams(int, int, double, double, double, double, IUniformRandom)"/> with torchvision's
    /// <c>scale</c> and <c>ratio</c> pairs.
    /// </summary>
    public static CropBox GetParams(int width, int height, (double Min, double Max) scale,
        (double Min, double Max) ratio, IUniformRandom rng) =>
        GetParams(width, height, scale.Min, scale.Max, ratio.Min, ratio.Max, rng);

    private static CropBox CentralFallback(int width, int height, double ratioMin, double ratioMax)
    {
        double inRatio = (double)width / height;
        int w = width;
        int h = height;
        if (inRatio < ratioMin)
        {
            h = (int)Math.Round(w / ratioMin);
        }
        else if (inRatio > ratioMax)
        {
            w = (int)Math.Round(h * ratioMax);
        }
        return new CropBox((height - h) / 2, (width - w) / 2, h, w);
    }
}
