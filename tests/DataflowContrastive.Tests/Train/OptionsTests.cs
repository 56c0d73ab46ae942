using DataflowContrastive.Train;

namespace DataflowContrastive.Tests.Train;

public class OptionsTests
{
    [Fact]
    public void Defaults_are_valid()
    {
        new ModelOptions().Validate();
        new OptimizerOptions().Validate();
    }

    [Fact]
    public void Heads_that_do_not_divide_the_width_are_named_in_the_error()
    {
        var options = new ModelOptions { TextWidth = 10, TextHeads = 4 };

        var error = Assert.Throws<ArgumentException>(options.Validate);

        Assert.Equal(nameof(ModelOptions.TextHeads), error.ParamName);
        Assert.Contains("TextHeads", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Empty_image_widths_are_refused()
    {
        var error = Assert.Throws<ArgumentException>(new ModelOptions { ImageWidths = [] }.Validate);
        Assert.Equal(nameof(ModelOptions.ImageWidths), error.ParamName);
    }

    [Fact]
    public void Beta2_of_one_is_named_in_the_error()
    {
        var error = Assert.Throws<ArgumentException>(new OptimizerOptions { Beta2 = 1 }.Validate);
        Assert.Equal(nameof(OptimizerOptions.Beta2), error.ParamName);
    }

    [Fact]
    public void Negative_learning_rate_is_named_in_the_error()
    {
        var error = Assert.Throws<ArgumentException>(new OptimizerOptions { LearningRate = -1 }.Validate);
        Assert.Equal(nameof(OptimizerOptions.LearningRate), error.ParamName);
    }
}
