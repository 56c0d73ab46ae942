using DataflowContrastive.Host.Commands;
using DataflowContrastive.Host.Pipelines;

namespace DataflowContrastive.Tests.Host;

public sealed class ExportPipelineFileTests
{
    private const string File = "/pipelines/embed.yaml";

    [Fact]
    public void An_export_file_reads_its_checkpoint_layout_and_embeddings()
    {
        PipelineDefinition d = PipelineFileReader.Parse("""
            kind: export
            source: { shards: shards/ }
            export: { checkpoint: ../runs/x/checkpoints, layout: clip-retrieval, embeddings: image,
                      shard_per_input: true, save_safetensors: true }
            """, File);

        Assert.Equal(PipelineKind.Export, d.Kind);
        Assert.Equal("/runs/x/checkpoints", d.Export.Checkpoint);
        Assert.Equal((ExportLayout.ClipRetrieval, ExportEmbeddings.Image), (d.Export.Layout, d.Export.Embeddings));
        Assert.True(d.Export.ShardPerInput && d.Export.SaveSafetensors);
    }

    [Fact]
    public void The_committed_export_pipeline_is_accepted()
    {
        PipelineDefinition d = PipelineFileReader.Read(TestPaths.Repo("pipelines", "export-coco.yaml"));

        Assert.Equal(PipelineKind.Export, d.Kind);
        Assert.Equal(TestPaths.Repo("runs", "clip-coco", "checkpoints"), d.Export.Checkpoint);

        // The README's `dfc export` example writes the parquet layout to runs/coco-embeddings: this file's
        // clip-retrieval layout goes elsewhere, so running both never mixes two layouts in one folder.
        Assert.Equal(ExportLayout.ClipRetrieval, d.Export.Layout);
        Assert.Equal(TestPaths.Repo("runs", "coco-embeddings-clip-retrieval"), d.OutputDirectory);
    }

    [Fact]
    public void An_export_file_without_a_checkpoint_or_with_its_own_model_is_refused()
    {
        var e = Assert.Throws<PipelineFileException>(() => PipelineFileReader.Parse(
            "kind: export\nsource: { shards: s }\nmodel: { embed_dim: 64 }\nimages: { size: 96 }\n", File));

        Assert.Equal(["export.checkpoint", "model.embed_dim", "images.size"], e.Errors.Select(x => x.Key));
        Assert.Contains("settings.json", e.Errors[1].Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void A_training_file_may_not_name_a_checkpoint_to_export_with()
    {
        var e = Assert.Throws<PipelineFileException>(() => PipelineFileReader.Parse(
            "source: { shards: s }\nexport: { checkpoint: c }\n", File));

        Assert.Equal("export.checkpoint", Assert.Single(e.Errors).Key);
    }

    [Fact]
    public void The_export_command_builds_the_same_definition_as_an_export_file()
    {
        string yaml = ExportCommand.ToPipelineYaml(
            ["--checkpoint", "/c", "--out", "/o", "--layout", "clip-retrieval", "--shard-per-input", "/s/a.parquet",
                "/s/it's.parquet"]);

        PipelineDefinition d = PipelineFileReader.Parse(yaml, File);
        Assert.Equal(PipelineKind.Export, d.Kind);
        Assert.Equal(("/c", "/o", "/o/embeddings"), (d.Export.Checkpoint, d.OutputDirectory, d.Export.Directory));
        Assert.Equal(ExportLayout.ClipRetrieval, d.Export.Layout);
        Assert.True(d.Export.ShardPerInput);
        Assert.Equal(["/s/a.parquet", "/s/it's.parquet"], d.Source.Shards);
    }

    [Fact]
    public void The_export_command_refuses_a_call_without_output_or_shards()
    {
        Assert.Throws<ArgumentException>(() => ExportCommand.ToPipelineYaml(["--checkpoint", "/c", "/s"]));
        Assert.Throws<ArgumentException>(() => ExportCommand.ToPipelineYaml(["--checkpoint", "/c", "--out", "/o"]));
        Assert.Throws<ArgumentException>(() => ExportCommand.ToPipelineYaml(["--out", "/o", "--frobnicate", "1"]));
    }
}
