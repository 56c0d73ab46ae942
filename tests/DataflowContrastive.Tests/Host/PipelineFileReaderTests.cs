using DataflowContrastive.Host.Pipelines;

namespace DataflowContrastive.Tests.Host;

public class PipelineFileReaderTests
{
    private const string File = "/pipelines/test.yaml";

    [Fact]
    public void A_minimal_file_takes_the_documented_defaults()
    {
        PipelineDefinition definition = PipelineFileReader.Parse("source:\n  shards: data/*.parquet\n", File);

        Assert.Equal("test", definition.Name);
        Assert.Equal(ContrastiveMode.Clip, definition.Mode);
        Assert.Equal(["/pipelines/data/*.parquet"], definition.Source.Shards);
        Assert.Equal(32, definition.Batch.Size);
        Assert.Equal(224, definition.Images.Size);
        Assert.Equal(5e-4, definition.Optimizer.LearningRate);
        Assert.Equal(Path.Combine(definition.OutputDirectory, "checkpoints"), definition.Checkpoint.Directory);
    }

    [Fact]
    public void Relative_paths_are_resolved_against_the_folder_of_the_file()
    {
        PipelineDefinition definition = PipelineFileReader.Parse(
            "source:\n  shards: [../samples/a.parquet, /abs/b]\noutput: ../runs/x\n", File);

        Assert.Equal(["/samples/a.parquet", "/abs/b"], definition.Source.Shards);
        Assert.Equal("/runs/x", definition.OutputDirectory);
        Assert.Equal("/runs/x/embeddings", definition.Export.Directory);
    }

    [Fact]
    public void Every_value_is_read_into_its_setting()
    {
        const string yaml = """
            mode: clip
            source:
              shards: s
              columns: { image: jpg, caption: txt }
            images: { size: 64, scale: [0.5, 1.0], flip: 0.5, background: "#000000" }
            batch: { size: 16 }
            model: { embed_dim: 32, image_widths: [8, 16], text_width: 48, text_heads: 6 }
            optimizer: { betas: [0.8, 0.9], warmup_steps: 3 }
            train: { steps: 20, seed: 7, device: cpu }
            checkpoint: { every: 5, keep: 2 }
            export: { enabled: false }
            """;

        PipelineDefinition d = PipelineFileReader.Parse(yaml, File);

        Assert.Equal(("jpg", "txt"), (d.Source.ImageColumn, d.Source.CaptionColumn));
        Assert.Equal((64, 0.5, 1.0, 0.5, "#000000"),
            (d.Images.Size, d.Images.ScaleMin, d.Images.ScaleMax, d.Images.FlipProbability, d.Images.Background));
        Assert.Equal(16, d.Batch.Size);
        Assert.Equal([8, 16], d.Model.ImageWidths);
        Assert.Equal((0.8, 0.9, 3), (d.Optimizer.Beta1, d.Optimizer.Beta2, d.Optimizer.WarmupSteps));
        Assert.Equal((20, 7L, "cpu"), (d.Train.Steps, d.Train.Seed, d.Train.Device));
        Assert.Equal((5, 2), (d.Checkpoint.Every, d.Checkpoint.Keep));
        Assert.False(d.Export.Enabled);
    }

    [Fact]
    public void An_unknown_key_is_refused_with_its_line_and_a_suggestion()
    {
        var e = Assert.Throws<PipelineFileException>(() => PipelineFileReader.Parse(
            "source:\n  shards: s\nmodel:\n  embed_dimm: 64\n", File));

        PipelineFileError error = Assert.Single(e.Errors);
        Assert.Equal((File, 4, "model.embed_dimm"), (error.File, error.Line, error.Key));
        Assert.Contains("did you mean 'model.embed_dim'", error.Reason, StringComparison.Ordinal);
        Assert.Contains("/pipelines/test.yaml:4:3: 'model.embed_dimm'", e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("batch:\n  size: lots\n", 2, "batch.size", "expected a whole number")]
    [InlineData("batch:\n  size: 1\n", 2, "batch.size", "from 2 to")]
    [InlineData("images:\n  scale: [1.0, 0.5]\n", 2, "images.scale", "low <= high")]
    [InlineData("train:\n  device: tpu\n", 2, "train.device", "expected one of auto, cpu, cuda")]
    [InlineData("mode: byol\n", 1, "mode", "expected one of clip")]
    [InlineData("images:\n  mean: [0.5, 0.5]\n", 2, "images.mean", "list of 3 numbers")]
    [InlineData("images:\n  background: white\n", 2, "images.background", "#RRGGBB")]
    [InlineData("model:\n  text_width: 100\n  text_heads: 3\n", 3, "model.text_heads", "must divide")]
    [InlineData("batch: 8\n", 1, "batch", "expected a mapping")]
    [InlineData("train:\n  steps:\n", 2, "train.steps", "has no value")]
    public void A_wrong_value_is_refused_with_its_line_key_and_reason(string yaml, int line, string key, string reason)
    {
        var e = Assert.Throws<PipelineFileException>(() => PipelineFileReader.Parse("source: { shards: s }\n" + yaml,
            File));

        PipelineFileError error = Assert.Single(e.Errors);
        Assert.Equal((line + 1, key), (error.Line, error.Key));
        Assert.Contains(reason, error.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void A_missing_source_and_several_problems_are_reported_together()
    {
        var e = Assert.Throws<PipelineFileException>(() => PipelineFileReader.Parse(
            "batch: { size: 0 }\ntrain: { seeed: 1 }\n", File));

        Assert.Equal(["batch.size", "train.seeed", "source.shards"], e.Errors.Select(x => x.Key));
    }

    [Fact]
    public void Text_that_is_not_yaml_is_refused_with_its_line()
    {
        var e = Assert.Throws<PipelineFileException>(() => PipelineFileReader.Parse(
            "source:\n  shards: [a, b\nbatch: 3\n", File));

        Assert.Contains("not valid YAML", Assert.Single(e.Errors).Reason, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("output: out\nsource:\n\tshards: s\ntrain:\n  steps: 5\n", 3, 1)]
    [InlineData("output: out\nsource:\n  shards: s\n \tsteps: 5\n", 4, 2)]
    public void A_tab_used_as_indentation_is_reported_at_the_tab(string yaml, int line, int column)
    {
        var e = Assert.Throws<PipelineFileException>(() => PipelineFileReader.Parse(yaml, File));

        PipelineFileError error = Assert.Single(e.Errors);
        Assert.Equal((line, column), (error.Line, error.Column));
        Assert.Contains("tab", error.Reason, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("source: { shards: s }\nbatch:\n  size: 4\noutput: \"unclosed\nsteps: 4\n", 4)]
    [InlineData("source: { shards: s }\nbatch: 4\n  size: 3\n", 3)]
    [InlineData("source: { shards: s }\nbatch: 4\n- size\n", 3)]
    public void Other_yaml_syntax_errors_are_reported_at_their_line(string yaml, int line)
    {
        var e = Assert.Throws<PipelineFileException>(() => PipelineFileReader.Parse(yaml, File));

        PipelineFileError error = Assert.Single(e.Errors);
        Assert.Equal(line, error.Line);
        Assert.Contains("not valid YAML", error.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void Shards_that_match_no_Parquet_file_are_refused_before_any_work_with_their_line()
    {
        string folder = Directory.CreateTempSubdirectory("dfc-pipeline-").FullName;
        try
        {
            string path = Path.Combine(folder, "p.yaml");
            System.IO.File.WriteAllText(path, "batch: { size: 4 }\nsource:\n  shards: data/*.parquet\n");

            var e = Assert.Throws<PipelineFileException>(() => PipelineFileReader.Read(path));

            PipelineFileError error = Assert.Single(e.Errors);
            Assert.Equal((3, "source.shards"), (error.Line, error.Key));
            Assert.Contains("no Parquet file found", error.Reason, StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    [Fact]
    public void A_missing_file_is_refused_naming_it()
    {
        var e = Assert.Throws<PipelineFileException>(() => PipelineFileReader.Read("/no/such/pipeline.yaml"));

        Assert.Contains("/no/such/pipeline.yaml", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Every_committed_pipeline_file_is_valid()
    {
        string[] files = Directory.GetFiles(TestPaths.Repo("pipelines"), "*.yaml");

        // The CIFAR-10 shards are made by scripts/cifar-sample.sh and never committed: those files are checked
        // without looking for their shards.
        Assert.All(files, f => _ = System.IO.File.ReadAllText(f).Contains("samples/cifar10", StringComparison.Ordinal)
            ? PipelineFileReader.Parse(System.IO.File.ReadAllText(f), f)
            : PipelineFileReader.Read(f));
        Assert.True(System.IO.File.Exists(TestPaths.Repo("scripts/cifar-sample.sh")));
    }

    [Fact]
    public void The_readme_documents_every_key()
    {
        string readme = System.IO.File.ReadAllText(TestPaths.Repo("README.md"));

        Assert.All(PipelineKeys.All, k => Assert.Contains($"| `{k.Path}` |", readme, StringComparison.Ordinal));
    }
}
