namespace DataflowContrastive.Augment;

/// <summary>A recipe's effective settings, after the options' explicit values override its defaults.</summary>
public sealed record RecipeSettings
{
    /// <summary>The recipe names understood.</summary>
    public static IReadOnlyList<string> Names { get; } = ["clip", "simclr", "supcon", "eval"];

    /// <summary>Recipe name.</summary>
    public required string Name { get; init; }

    /// <summary>Smallest crop area fraction.</summary>
    public double ScaleMin { get; init; }

    /// <summary>Largest crop area fraction.</summary>
    public double ScaleMax { get; init; } = 1;

    /// <summary>Probability of a horizontal flip.</summary>
    public double FlipProbability { get; init; }

    /// <summary>Probability that colour jitter is applied at all.</summary>
    public double JitterProbability { get; init; }

    /// <summary>Jitter strengths: brightness, contrast, saturation (factor ranges 1 ± x) and hue (±x).</summary>
    public (double Brightness, double Contrast, double Saturation, double Hue) Jitter { get; init; }

    /// <summary>Probability of converting to grayscale (three equal channels).</summary>
    public double GrayscaleProbability { get; init; }

    /// <summary>Probability of a Gaussian blur.</summary>
    public double BlurProbability { get; init; }

    /// <summary>Range the blur's sigma is drawn from.</summary>
    public (double Min, double Max) BlurSigma { get; init; } = (0.1, 2.0);

    /// <summary>Probability of solarizing.</summary>
    public double SolarizeProbability { get; init; }

    /// <summary>Values at or above this are inverted by solarize.</summary>
    public int SolarizeThreshold { get; init; } = 128;

    /// <summary>True when any colour or blur op can run.</summary>
    public bool HasPhotometric => JitterProbability > 0 || GrayscaleProbability > 0 || BlurProbability > 0
        || SolarizeProbability > 0;

    /// <summary>
    /// Blur kernel side for an output side: a tenth of it, made odd, at least 3 (23 at 224, 9 at 96), as SimCLR.
    /// </summary>
    public static int BlurKernelSize(int imageSize)
    {
        int k = Math.Max(3, imageSize / 10);
        return k % 2 == 0 ? k + 1 : k;
    }

    internal static RecipeSettings For(AugmentOptions o)
    {
        RecipeSettings d = Published(o.Recipe);
        return d with
        {
            ScaleMin = o.ScaleMin ?? d.ScaleMin,
            ScaleMax = o.ScaleMax ?? d.ScaleMax,
            FlipProbability = o.FlipProbability ?? d.FlipProbability,
            JitterProbability = o.JitterProbability ?? d.JitterProbability,
            Jitter = (o.Brightness ?? d.Jitter.Brightness, o.Contrast ?? d.Jitter.Contrast,
                o.Saturation ?? d.Jitter.Saturation, o.Hue ?? d.Jitter.Hue),
            GrayscaleProbability = o.GrayscaleProbability ?? d.GrayscaleProbability,
            BlurProbability = o.BlurProbability ?? d.BlurProbability,
            BlurSigma = (o.BlurSigmaMin ?? d.BlurSigma.Min, o.BlurSigmaMax ?? d.BlurSigma.Max),
            SolarizeProbability = o.SolarizeProbability ?? d.SolarizeProbability,
            SolarizeThreshold = o.SolarizeThreshold ?? d.SolarizeThreshold,
        };
    }

    /// <summary>
    /// The published recipes. clip: open_clip's training transform (crop 0.9-1 only). simclr: SimCLR (crop
    /// 0.08-1, flip, jitter 0.8/0.8/0.8/0.2 with p 0.8, grayscale p 0.2, blur p 0.5 with sigma 0.1-2). supcon:
    /// SupContrast (crop 0.2-1, flip, jitter 0.4/0.4/0.4/0.1 with p 0.8, grayscale p 0.2). eval uses none of these.
    /// </summary>
    private static RecipeSettings Published(string name) => name switch
    {
        "simclr" => new RecipeSettings
        {
            Name = name, ScaleMin = 0.08, FlipProbability = 0.5, JitterProbability = 0.8,
            Jitter = (0.8, 0.8, 0.8, 0.2), GrayscaleProbability = 0.2, BlurProbability = 0.5,
        },
        "supcon" => new RecipeSettings
        {
            Name = name, ScaleMin = 0.2, FlipProbability = 0.5, JitterProbability = 0.8,
            Jitter = (0.4, 0.4, 0.4, 0.1), GrayscaleProbability = 0.2,
        },
        _ => new RecipeSettings { Name = name, ScaleMin = 0.9 },
    };
}
