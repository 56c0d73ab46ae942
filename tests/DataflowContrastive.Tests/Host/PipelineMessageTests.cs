using DataflowContrastive.Host.Pipelines;
using DataflowContrastive.Host.Running;

namespace DataflowContrastive.Tests.Host;

/// <summary>Messages about a pipeline file name its keys as the file spells them, in printable text.</summary>
public sealed class PipelineMessageTests
{
    private static readonly IReadOnlyDictionary<string, string> Plain = Fingerprint("");

    [Theory]
    [InlineData("* * *", 3)]
    [InlineData("* * * * * * *", 7)]
    [InlineData("*", 1)]
    public void A_cron_expression_with_the_wrong_number_of_fields_is_refused_with_the_count(string cron, int fields)
    {
        PipelineFileError error = ScheduleError(cron);

        Assert.Equal("serve.schedule", error.Key);
        Assert.Contains("expected 5 fields", error.Reason, StringComparison.Ordinal);
        Assert.Contains("6 with seconds first", error.Reason, StringComparison.Ordinal);
        Assert.EndsWith($"got {fields}", error.Reason, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("* * * * 1-")]
    [InlineData("*/ * * * *")]
    [InlineData("61 * * * *")]
    [InlineData("* * * 1, *")]
    public void A_bad_cron_field_is_refused_in_printable_text(string cron)
    {
        PipelineFileError error = ScheduleError(cron);

        Assert.StartsWith("not a cron expression (", error.Reason, StringComparison.Ordinal);
        Assert.DoesNotContain(error.Reason, char.IsControl);
    }

    [Fact]
    public void Every_setting_in_a_run_fingerprint_is_named_by_a_pipeline_key()
    {
        var keys = PipelineKeys.All.Select(k => k.Path).ToHashSet(StringComparer.Ordinal);

        IEnumerable<string> unnamed = Fingerprint("eval: { holdout: 0.3 }\n").Keys
            .Where(path => path != "shards")
            .Where(path => !keys.Contains(RunFingerprint.PipelineKeyOf(path).Split('[')[0]));

        Assert.Empty(unnamed);
    }

    [Fact]
    public void A_changed_flip_is_named_by_its_key_and_its_unset_value_as_the_recipe_default()
    {
        Assert.Equal(["images.flip was the recipe default, is now 0.5"],
            RunFingerprint.Differences(Plain, Fingerprint("images: { flip: 0.5 }\n")));
    }

    [Fact]
    public void A_changed_range_names_its_key_and_the_end_that_changed()
    {
        Assert.Equal(["images.ratio[0] was 0.75, is now 0.5"],
            RunFingerprint.Differences(Plain, Fingerprint("images: { ratio: [0.5, 1.3333333333333333] }\n")));
        Assert.Equal(["optimizer.betas[1] was 0.98, is now 0.99"],
            RunFingerprint.Differences(Plain, Fingerprint("optimizer: { betas: [0.9, 0.99] }\n")));
    }

    [Fact]
    public void A_changed_jitter_part_or_column_is_named_by_its_nested_key()
    {
        IReadOnlyDictionary<string, string> changed = RunFingerprint.Compute(PipelineFileReader.Parse(
            "source: { shards: x, columns: { caption: text } }\nimages: { jitter: { hue: 0.1 } }\n", "/x.yaml"), []);

        Assert.Equal(["images.jitter.hue was the recipe default, is now 0.1",
                "source.columns.caption was the default (detected), is now \"text\""],
            RunFingerprint.Differences(Plain, changed));
    }

    [Theory]
    [InlineData("images: { max_pixels: 1000000000000 }\n", "images.max_pixels")]
    [InlineData("source: { shards: x, max_value_bytes: 3000000000 }\n", "source.max_value_bytes")]
    public void A_budget_larger_than_the_reader_can_hold_is_refused_in_the_file_by_its_key(string yaml, string key)
    {
        string file = yaml.StartsWith("source", StringComparison.Ordinal) ? yaml : "source: { shards: x }\n" + yaml;

        PipelineFileException e = Assert.Throws<PipelineFileException>(() => PipelineFileReader.Parse(file, "/x.yaml"));

        Assert.Equal(key, Assert.Single(e.Errors).Key);
    }

    private static PipelineFileError ScheduleError(string cron)
    {
        PipelineFileException e = Assert.Throws<PipelineFileException>(() => PipelineFileReader.Parse(
            $"source: {{ shards: in }}\nserve:\n  schedule: \"{cron}\"\n", "/bad.yaml"));
        return Assert.Single(e.Errors);
    }

    private static IReadOnlyDictionary<string, string> Fingerprint(string yaml) => RunFingerprint.Compute(
        PipelineFileReader.Parse($"source: {{ shards: x }}\n{yaml}", "/x.yaml"), []);
}
