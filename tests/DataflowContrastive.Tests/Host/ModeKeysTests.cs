using DataflowContrastive.Host.Pipelines;
using DataflowContrastive.Train;

namespace DataflowContrastive.Tests.Host;

public class ModeKeysTests
{
    private const string File = "/pipelines/modes.yaml";

    [Fact]
    public void Simclr_takes_its_recipe_and_the_loss_temperature_from_the_file()
    {
        PipelineDefinition d = Parse("mode: simclr\nloss:\n  temperature: 0.5\n");

        Assert.Equal(ContrastiveMode.SimClr, d.Mode);
        Assert.Equal("simclr", d.Images.Recipe);
        Assert.Equal(0.5, d.Loss.Temperature);
    }

    [Fact]
    public void Supcon_batch_is_classes_times_per_class()
    {
        PipelineDefinition d = Parse("mode: supcon\nbatch:\n  classes: 5\n  per_class: 3\n");

        Assert.Equal(15, d.Batch.Size);
        Assert.Equal("supcon", d.Images.Recipe);
    }

    [Fact]
    public void Supcon_by_default_has_eight_classes_of_four()
    {
        Assert.Equal(32, Parse("mode: supcon\n").Batch.Size);
    }

    [Fact]
    public void An_explicit_recipe_wins_over_the_mode_default()
    {
        Assert.Equal("clip", Parse("mode: simclr\nimages:\n  recipe: clip\n").Images.Recipe);
    }

    [Theory]
    [InlineData("positives", FalseNegativeMode.Positive)]
    [InlineData("mask", FalseNegativeMode.Masked)]
    [InlineData("off", FalseNegativeMode.Ignore)]
    public void False_negative_key_is_read_for_clip(string value, FalseNegativeMode expected)
    {
        Assert.Equal(expected, Parse($"loss:\n  false_negatives: {value}\n").Loss.FalseNegatives);
    }

    [Fact]
    public void Clip_treats_duplicates_as_positives_by_default()
    {
        Assert.Equal(FalseNegativeMode.Positive, Parse("mode: clip\n").Loss.FalseNegatives);
    }

    [Theory]
    [InlineData("mode: clip\nloss:\n  temperature: 0.1\n", "loss.temperature", "CLIP learns")]
    [InlineData("mode: simclr\nloss:\n  false_negatives: mask\n", "loss.false_negatives", "only read with mode: clip")]
    [InlineData("mode: simclr\nbatch:\n  classes: 4\n", "batch.classes", "only read with mode: supcon")]
    [InlineData("mode: supcon\nbatch:\n  size: 10\n  classes: 2\n  per_class: 4\n", "batch.size", "= 8")]
    [InlineData("mode: simclr\nexport:\n  embeddings: both\n", "export.embeddings", "no text encoder")]
    [InlineData("loss:\n  temperature: 0.001\nmode: simclr\n", "loss.temperature", "from 0.01 to 10")]
    [InlineData("mode: moco\n", "mode", "clip, simclr, supcon")]
    [InlineData("eval:\n  holdout: 0.1\n  shards: held-out\n", "eval.shards", "set one of them")]
    public void A_key_that_does_not_fit_the_mode_is_refused_naming_it(string yaml, string key, string reason)
    {
        var e = Assert.Throws<PipelineFileException>(() => Parse(yaml));

        PipelineFileError error = Assert.Single(e.Errors);
        Assert.Equal(key, error.Key);
        Assert.Contains(reason, error.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void Held_out_shards_and_a_time_limit_are_read_with_paths_relative_to_the_file()
    {
        PipelineDefinition d = Parse("eval:\n  shards: [../held-out/*.parquet]\ntrain:\n  max_minutes: 2.5\n");

        Assert.Equal(["/held-out/*.parquet"], d.Eval.Shards);
        Assert.Equal(2.5, d.Train.MaxMinutes);
        Assert.Null(Parse("").Train.MaxMinutes);
    }

    private static PipelineDefinition Parse(string yaml) =>
        PipelineFileReader.Parse("source:\n  shards: s\n" + yaml, File);
}
