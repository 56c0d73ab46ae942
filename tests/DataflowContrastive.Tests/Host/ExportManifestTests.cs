using DataflowContrastive.Host.Export;
using DataflowContrastive.Host.Pipelines;
using DataflowContrastive.Host.Running;

namespace DataflowContrastive.Tests.Host;

/// <summary>An export folder holds one kind of export: another layout or other embeddings there are refused.</summary>
public sealed class ExportManifestTests : IDisposable
{
    private static readonly ExportedModel Model = new(7, "abc", null);

    private readonly string _work = Directory.CreateTempSubdirectory("dfc-export-manifest-").FullName;

    public void Dispose() => Directory.Delete(_work, recursive: true);

    [Fact]
    public async Task An_export_into_a_folder_of_another_layout_is_refused_naming_the_folder_and_both_layouts()
    {
        await new ExportManifest(_work, ExportLayout.Parquet, ExportEmbeddings.Both, 8, Model, "in")
            .CompleteAsync(default);

        var e = await Assert.ThrowsAsync<PipelineRunException>(() => ExportManifest.OpenAsync(_work,
            ExportLayout.ClipRetrieval, ExportEmbeddings.Both, 8, Model, "in", default));

        Assert.Contains(_work, e.Message, StringComparison.Ordinal);
        Assert.Contains("export.layout parquet", e.Message, StringComparison.Ordinal);
        Assert.Contains("export.layout clip-retrieval", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_export_into_a_folder_of_other_embeddings_is_refused()
    {
        await new ExportManifest(_work, ExportLayout.ClipRetrieval, ExportEmbeddings.Image, 8, Model, "in")
            .CompleteAsync(default);

        var e = await Assert.ThrowsAsync<PipelineRunException>(() => ExportManifest.OpenAsync(_work,
            ExportLayout.ClipRetrieval, ExportEmbeddings.Both, 8, Model, "in", default));

        Assert.Contains("export.embeddings image", e.Message, StringComparison.Ordinal);
        Assert.Contains("export.embeddings both", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_run_whose_export_folder_holds_another_layout_is_refused_before_it_trains()
    {
        string embeddings = Path.Combine(_work, "out", "embeddings");
        Directory.CreateDirectory(embeddings);
        await new ExportManifest(embeddings, ExportLayout.ClipRetrieval, ExportEmbeddings.Both, 8, Model, "in")
            .CompleteAsync(default);
        string pipeline = Path.Combine(_work, "run.yaml");
        await File.WriteAllTextAsync(pipeline, $"""
            source: {"{"} shards: {TestPaths.Repo("samples", "coco-cc")} {"}"}
            output: out
            images: {"{"} size: 32 {"}"}
            batch: {"{"} size: 4 {"}"}
            model: {"{"} embed_dim: 8, image_widths: [4, 8], text_width: 16, text_layers: 1, text_heads: 2 {"}"}
            train: {"{"} steps: 1, device: cpu {"}"}
            """);

        Assert.Equal(1, await DataflowContrastive.Host.Commands.CommandLine.DispatchAsync(["run", pipeline],
            CancellationToken.None));

        Assert.False(Directory.Exists(Path.Combine(_work, "out", "checkpoints")), "it trained nothing");
    }

    [Fact]
    public async Task An_export_of_the_same_layout_with_another_model_starts_over_in_the_folder()
    {
        await new ExportManifest(_work, ExportLayout.Parquet, ExportEmbeddings.Both, 8, Model, "in")
            .CompleteAsync(default);

        ExportManifest reopened = await ExportManifest.OpenAsync(_work, ExportLayout.Parquet, ExportEmbeddings.Both,
            8, Model with { Fingerprint = "def" }, "in", default);

        Assert.Equal(-1, reopened.ResumeAfterIndex);
    }
}
