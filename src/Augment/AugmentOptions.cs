namespace DataflowContrastive.Augment;

/// <summary>
/// How training views and evaluation images are made. Bound from the pipeline file's <c>augment</c> section. Unset
/// crop and flip settings take the <see cref="Recipe"/>'s published values.
/// </summary>
public sealed class AugmentOptions
{
    /// <summary>CLIP's per-channel means (RGB), from open_clip's OPENAI_DATASET_MEAN.</summary>
    public static IReadOnlyList<float> ClipMean { get; } = Array.AsReadOnly([0.48145466f, 0.4578275f, 0.40821073f]);

    /// <summary>CLIP's per-channel standard deviations (RGB), from open_clip's OPENAI_DATASET_STD.</summary>
    public static IReadOnlyList<float> ClipStd { get; } = Array.AsReadOnly([0.26862954f, 0.26130258f, 0.27577711f]);

    /// <summary>Output side in pixels; outputs are square. Default 224.</summary>
    public int ImageSize { get; init; } = 224;

    /// <summary>
    /// Named recipe supplying defaults: <c>clip</c> (default), <c>simclr</c>, <c>supcon</c> or <c>eval</c>.
    /// </summary>
    public string Recipe { get; init; } = "clip";

    /// <summary>Smallest crop area fraction. Default from the recipe (clip 0.9, simclr 0.08, supcon 0.2).</summary>
    public double? ScaleMin { get; init; }

    /// <summary>Largest crop area fraction. Default 1.</summary>
    public double? ScaleMax { get; init; }

    /// <summary>Smallest crop aspect ratio (width / height). Default 3/4.</summary>
    public double RatioMin { get; init; } = 3.0 / 4.0;

    /// <summary>Largest crop aspect ratio. Default 4/3.</summary>
    public double RatioMax { get; init; } = 4.0 / 3.0;

    /// <summary>Probability of a horizontal flip. Default from the recipe (clip 0, simclr and supcon 0.5).</summary>
    public double? FlipProbability { get; init; }

    /// <summary>Probability colour jitter runs. Default from the recipe (simclr and supcon 0.8, clip 0).</summary>
    public double? JitterProbability { get; init; }

    /// <summary>Brightness jitter strength: factor in [max(0, 1 - x), 1 + x]. Recipe default (simclr 0.8).</summary>
    public double? Brightness { get; init; }

    /// <summary>Contrast jitter strength. Recipe default (simclr 0.8, supcon 0.4).</summary>
    public double? Contrast { get; init; }

    /// <summary>Saturation jitter strength. Recipe default (simclr 0.8, supcon 0.4).</summary>
    public double? Saturation { get; init; }

    /// <summary>Hue jitter strength, at most 0.5: shift in [-x, x]. Recipe default (simclr 0.2, supcon 0.1).</summary>
    public double? Hue { get; init; }

    /// <summary>Probability of grayscale. Recipe default (simclr and supcon 0.2).</summary>
    public double? GrayscaleProbability { get; init; }

    /// <summary>Probability of Gaussian blur (kernel a tenth of the side, odd). Recipe default (simclr 0.5).</summary>
    public double? BlurProbability { get; init; }

    /// <summary>Smallest blur sigma. Default 0.1.</summary>
    public double? BlurSigmaMin { get; init; }

    /// <summary>Largest blur sigma. Default 2.</summary>
    public double? BlurSigmaMax { get; init; }

    /// <summary>Probability of solarize. Default 0 in every recipe.</summary>
    public double? SolarizeProbability { get; init; }

    /// <summary>Solarize threshold: values at or above it are inverted. Default 128.</summary>
    public int? SolarizeThreshold { get; init; }

    /// <summary>Resize filter. Default bicubic, as open_clip; torchvision's own default is bilinear.</summary>
    public ResampleFilter Interpolation { get; init; } = ResampleFilter.Bicubic;

    /// <summary>Per-channel mean subtracted after scaling to [0, 1]. Default CLIP's.</summary>
    public float[] Mean { get; init; } = [.. ClipMean];

    /// <summary>Per-channel standard deviation divided by. Default CLIP's.</summary>
    public float[] Std { get; init; } = [.. ClipStd];

    /// <summary>
    /// When true (default), a JPEG whose crop is at least twice the output side is decoded at a reduced DCT scale
    /// (1/2, 1/4, 1/8) that still leaves a training crop at least the output side, and the evaluation resize at
    /// least twice the output size. Pixels then differ from a full-size decode, most at sharp edges (see the tests
    /// for how much); set false for torchvision-exact resizing.
    /// </summary>
    public bool ReducedDecode { get; init; } = true;

    /// <summary>The recipe's settings with every unset value filled in.</summary>
    public RecipeSettings Resolve() => RecipeSettings.For(this);

    /// <summary>Throws <see cref="ArgumentException"/> naming the first setting out of range.</summary>
    public void Validate()
    {
        if (ImageSize is < 1 or > 4096)
        {
            throw Bad(nameof(ImageSize), $"must be between 1 and 4096; it is {ImageSize}");
        }
        if (!RecipeSettings.Names.Contains(Recipe))
        {
            throw Bad(nameof(Recipe), $"must be one of {string.Join(", ", RecipeSettings.Names)}; it is '{Recipe}'");
        }
        RecipeSettings r = Resolve();
        if (!(r.ScaleMin > 0 && r.ScaleMin <= r.ScaleMax && r.ScaleMax <= 1))
        {
            throw Bad(nameof(ScaleMin), $"and ScaleMax must satisfy 0 < min <= max <= 1; they are {r.ScaleMin}, "
                + $"{r.ScaleMax}");
        }
        if (!(RatioMin > 0 && RatioMin <= RatioMax && double.IsFinite(RatioMax)))
        {
            throw Bad(nameof(RatioMin), $"and RatioMax must satisfy 0 < min <= max; they are {RatioMin}, {RatioMax}");
        }
        CheckProbability(nameof(FlipProbability), r.FlipProbability);
        CheckProbability(nameof(JitterProbability), r.JitterProbability);
        CheckProbability(nameof(GrayscaleProbability), r.GrayscaleProbability);
        CheckProbability(nameof(BlurProbability), r.BlurProbability);
        CheckProbability(nameof(SolarizeProbability), r.SolarizeProbability);
        ValidatePhotometric(r);
        ValidateChannels();
    }

    private static void CheckProbability(string name, double p)
    {
        if (!(p >= 0 && p <= 1))
        {
            throw Bad(name, $"must be in [0, 1]; it is {p}");
        }
    }

    private static void ValidatePhotometric(RecipeSettings r)
    {
        (double b, double c, double s, double h) = r.Jitter;
        if (!(b >= 0 && c >= 0 && s >= 0 && double.IsFinite(b + c + s)))
        {
            throw Bad(nameof(Brightness), $"Contrast and Saturation must be non-negative; they are {b}, {c}, {s}");
        }
        if (!(h >= 0 && h <= 0.5))
        {
            throw Bad(nameof(Hue), $"must be in [0, 0.5]; it is {h}");
        }
        if (!(r.BlurSigma.Min > 0 && r.BlurSigma.Min <= r.BlurSigma.Max && double.IsFinite(r.BlurSigma.Max)))
        {
            throw Bad(nameof(BlurSigmaMin), $"and BlurSigmaMax must satisfy 0 < min <= max; they are "
                + $"{r.BlurSigma.Min}, {r.BlurSigma.Max}");
        }
        if (r.SolarizeThreshold is < 0 or > 256)
        {
            throw Bad(nameof(SolarizeThreshold), $"must be in [0, 256]; it is {r.SolarizeThreshold}");
        }
    }

    private void ValidateChannels()
    {
        if (Mean is null || Mean.Length != 3)
        {
            throw Bad(nameof(Mean), "must hold three values (R, G, B)");
        }
        if (Std is null || Std.Length != 3 || Std.Any(s => !(s > 0) || !float.IsFinite(s)))
        {
            throw Bad(nameof(Std), "must hold three positive values (R, G, B)");
        }
    }

    private static ArgumentException Bad(string name, string why) => new($"augment.{name} {why}.", name);
}
