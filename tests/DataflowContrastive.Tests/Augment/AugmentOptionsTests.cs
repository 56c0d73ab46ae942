using DataflowContrastive.Augment;

namespace DataflowContrastive.Tests.Augment;

public class AugmentOptionsTests
{
    [Fact]
    public void Defaults_are_open_clips_training_transform()
    {
        AugmentOptions o = new();
        RecipeSettings r = o.Resolve();

        Assert.Equal((224, "clip"), (o.ImageSize, o.Recipe));
        Assert.Equal((0.9, 1.0, 0.0), (r.ScaleMin, r.ScaleMax, r.FlipProbability));
        Assert.Equal((0.75, 4.0 / 3), (o.RatioMin, o.RatioMax));
        Assert.Equal([0.48145466f, 0.4578275f, 0.40821073f], o.Mean);
        Assert.Equal([0.26862954f, 0.26130258f, 0.27577711f], o.Std);
        Assert.Equal(ResampleFilter.Bicubic, o.Interpolation);
    }

    [Theory]
    [InlineData("simclr", 0.08, 0.5)]
    [InlineData("supcon", 0.2, 0.5)]
    [InlineData("clip", 0.9, 0.0)]
    public void Recipes_supply_their_published_crop_and_flip(string recipe, double scaleMin, double flip)
    {
        RecipeSettings r = new AugmentOptions { Recipe = recipe }.Resolve();

        Assert.Equal((scaleMin, 1.0, flip), (r.ScaleMin, r.ScaleMax, r.FlipProbability));
    }

    [Fact]
    public void Simclr_has_the_published_colour_and_blur_settings()
    {
        RecipeSettings r = new AugmentOptions { Recipe = "simclr" }.Resolve();

        Assert.Equal((0.8, (0.8, 0.8, 0.8, 0.2)), (r.JitterProbability, r.Jitter));
        Assert.Equal((0.2, 0.5, (0.1, 2.0)), (r.GrayscaleProbability, r.BlurProbability, r.BlurSigma));
        Assert.Equal(0.0, r.SolarizeProbability);
    }

    [Fact]
    public void Supcon_has_jitter_and_grayscale_but_no_blur()
    {
        RecipeSettings r = new AugmentOptions { Recipe = "supcon" }.Resolve();

        Assert.Equal((0.8, (0.4, 0.4, 0.4, 0.1)), (r.JitterProbability, r.Jitter));
        Assert.Equal((0.2, 0.0), (r.GrayscaleProbability, r.BlurProbability));
    }

    [Fact]
    public void Clip_and_eval_have_no_colour_ops()
    {
        Assert.False(new AugmentOptions { Recipe = "clip" }.Resolve().HasPhotometric);
        Assert.False(new AugmentOptions { Recipe = "eval" }.Resolve().HasPhotometric);
    }

    [Theory]
    [InlineData(224, 23)]
    [InlineData(96, 9)]
    [InlineData(32, 3)]
    [InlineData(8, 3)]
    public void Blur_kernel_is_an_odd_tenth_of_the_side(int side, int kernel)
    {
        Assert.Equal(kernel, RecipeSettings.BlurKernelSize(side));
    }

    [Fact]
    public void Explicit_values_override_the_recipe()
    {
        RecipeSettings r = new AugmentOptions { Recipe = "simclr", ScaleMin = 0.5, FlipProbability = 0 }.Resolve();

        Assert.Equal((0.5, 0.0), (r.ScaleMin, r.FlipProbability));
    }

    [Theory]
    [InlineData(nameof(AugmentOptions.ImageSize))]
    [InlineData(nameof(AugmentOptions.Recipe))]
    [InlineData(nameof(AugmentOptions.ScaleMin))]
    [InlineData(nameof(AugmentOptions.RatioMin))]
    [InlineData(nameof(AugmentOptions.FlipProbability))]
    [InlineData(nameof(AugmentOptions.Hue))]
    [InlineData(nameof(AugmentOptions.BlurProbability))]
    [InlineData(nameof(AugmentOptions.BlurSigmaMin))]
    [InlineData(nameof(AugmentOptions.Mean))]
    [InlineData(nameof(AugmentOptions.Std))]
    public void Validation_names_the_bad_setting(string property)
    {
        AugmentOptions bad = property switch
        {
            nameof(AugmentOptions.ImageSize) => new() { ImageSize = 0 },
            nameof(AugmentOptions.Recipe) => new() { Recipe = "moco" },
            nameof(AugmentOptions.ScaleMin) => new() { ScaleMin = 0 },
            nameof(AugmentOptions.RatioMin) => new() { RatioMin = 2, RatioMax = 1 },
            nameof(AugmentOptions.FlipProbability) => new() { FlipProbability = 1.5 },
            nameof(AugmentOptions.Hue) => new() { Hue = 0.6 },
            nameof(AugmentOptions.BlurProbability) => new() { BlurProbability = -0.1 },
            nameof(AugmentOptions.BlurSigmaMin) => new() { BlurSigmaMin = 3, BlurSigmaMax = 2 },
            nameof(AugmentOptions.Mean) => new() { Mean = [0.5f] },
            _ => new() { Std = [1, 0, 1] },
        };

        ArgumentException e = Assert.Throws<ArgumentException>(bad.Validate);

        Assert.Equal(property, e.ParamName);
        Assert.Contains("augment." + property, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Decode_budget_must_be_positive()
    {
        ArgumentException e = Assert.Throws<ArgumentException>(new DecodeOptions { MaxPixels = 0 }.Validate);

        Assert.Equal(nameof(DecodeOptions.MaxPixels), e.ParamName);
    }
}
