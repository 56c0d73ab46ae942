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
