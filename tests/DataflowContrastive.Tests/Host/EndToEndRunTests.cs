using System.Text.Json;
using DataflowContrastive.Host.Commands;
using DataflowContrastive.Host.Pipelines;
using DataflowContrastive.Train;
using DataflowContrastive.Host.Export;
using Parquet.Serialization;

namespace DataflowContrastive.Tests.Host;

public sealed class EndToEndRunTests : IDisposable
{
    // The committed sample holds the 51 COCO photos with licence 4 or 5, one caption each (see CocoSampleTests).
    private const int SampleRows = 51;
    private const int EmbedDim = 16;

    private readonly string _work = Directory.CreateTempSubdirectory("dfc-e2e-").FullName;

    public void Dispose() => Directory.Delete(_work, recursive: true);

    [Fact]
    public async Task A_tiny_pipeline_trains_checkpoints_and_exports_one_row_per_sample()
    {
        string pipeline = WritePipeline(steps: 4);

        int exitCode = await CommandLine.DispatchAsync(["run", pipeline], CancellationToken.None);

        Assert.Equal(0, exitCode);
        PipelineDefinition definition = PipelineFileReader.Read(pipeline);
        AssertCheckpointLoads(definition, expectedStep: 4);
        await AssertEmbeddingShardsHoldEverySample(definition.Export.Directory);
        AssertSummaryAndManifestNameTheirFigures(definition);
    }

    [Fact]
    public async Task A_bad_pipeline_file_is_refused_before_any_work_starts()
    {
        string pipeline = Path.Combine(_work, "bad.yaml");
        await File.WriteAllTextAsync(pipeline, $"source:\n  shards: {TestPaths.Repo("samples", "coco-cc")}\n" +
            "output: out\nbatch:\n  size: many\n");

        int exitCode = await CommandLine.DispatchAsync(["run", pipeline], CancellationToken.None);

        Assert.Equal(2, exitCode);
        Assert.False(Directory.Exists(Path.Combine(_work, "out")));
    }

    [Fact]
    public async Task A_run_names_a_shard_without_rows_and_prints_no_host_lifetime_lines()
    {
        string empty = Path.Combine(_work, "empty.parquet");
        await DataflowContrastive.Tests.Ingest.TestShards.WriteFlatAsync(empty, []);
        string pipeline = WritePipeline(steps: 1, shards: $"[{TestPaths.Repo("samples", "coco-cc")}, {empty}]");

        (int exitCode, string output) = await DfcProcess.RunCapturingAsync(pipeline);

        Assert.Equal(0, exitCode);
        Assert.Contains($"Shard {empty} holds no rows", output, StringComparison.Ordinal);
        Assert.DoesNotContain("Application started", output, StringComparison.Ordinal);
        Assert.DoesNotContain("Content root path", output, StringComparison.Ordinal);
        Assert.DoesNotContain("shard-", output, StringComparison.Ordinal);
    }

    private string WritePipeline(int steps, string? shards = null)
    {
        string path = Path.Combine(_work, "tiny.yaml");
        File.WriteAllText(path, $"""
            source:
              shards: {shards ?? TestPaths.Repo("samples", "coco-cc")}
              shuffle_buffer: 16
            output: out
            images: {"{"} size: 32, workers: 2 {"}"}
            batch: {"{"} size: 8 {"}"}
            model: {"{"} embed_dim: {EmbedDim}, image_widths: [4, 8], text_width: 16, text_layers: 1, text_heads: 2,
                     context_length: 16 {"}"}
            train: {"{"} steps: {steps}, device: cpu, log_every: 2 {"}"}
            checkpoint: {"{"} every: 2, keep: 2 {"}"}
            export: {"{"} rows_per_shard: 20 {"}"}
            """);
        return path;
    }

    // Recall is named as in the evaluation records, and the export's manifest names the checkpoint it embedded with.
    private static void AssertSummaryAndManifestNameTheirFigures(PipelineDefinition definition)
    {
        using JsonDocument summary = JsonDocument.Parse(
            File.ReadAllText(Path.Combine(definition.OutputDirectory, "summary.json")));
        Assert.Equal(
            ["samples", "image_to_text_at_1", "image_to_text_at_5", "text_to_image_at_1", "text_to_image_at_5"],
            summary.RootElement.GetProperty("recall").EnumerateObject().Select(p => p.Name));
        using JsonDocument manifest = JsonDocument.Parse(
            File.ReadAllText(Path.Combine(definition.Export.Directory, "manifest.json")));
        Assert.Equal(Path.Combine(definition.Checkpoint.Directory, "step-00000004"),
            manifest.RootElement.GetProperty("model").GetProperty("checkpoint").GetString());
    }

    private static void AssertCheckpointLoads(PipelineDefinition definition, int expectedStep)
    {
        var tokenizer = new CaptionTokenizer(definition.Model.ContextLength);
        using var trainer = new ClipTrainer(definition.Model(tokenizer.VocabularySize), definition.Optimizer(),
            totalSteps: expectedStep, DeviceSelector.Resolve("cpu"), seed: 1);
        var store = new CheckpointStore(definition.Checkpoint.Directory, definition.Checkpoint.Keep);

        CheckpointInfo? loaded = store.LoadLatest(trainer);

        Assert.NotNull(loaded);
        Assert.Equal(expectedStep, loaded.Step);
        Assert.Equal(expectedStep, trainer.Step);
        Assert.Equal(2, store.List().Count);
    }

    private static async Task AssertEmbeddingShardsHoldEverySample(string directory)
    {
        string[] shards = Directory.GetFiles(directory, "embeddings-*.parquet").Order(StringComparer.Ordinal).ToArray();
        var rows = new List<EmbeddingRow>();
        foreach (string shard in shards)
        {
            DeserializationResult<EmbeddingRow> shardRows =
                await ParquetSerializer.DeserializeAsync<EmbeddingRow>(shard);
            Assert.InRange(shardRows.Data.Count, 1, 20);
            Assert.Equal("4", shardRows.CustomMetadata["dataflowcontrastive.step"]);
            rows.AddRange(shardRows.Data);
        }

        Assert.Equal(3, shards.Length);
        Assert.Equal(SampleRows, rows.Count);
        Assert.Equal(SampleRows, rows.Select(r => r.Key).Distinct().Count());
        Assert.All(rows, r =>
        {
            Assert.Equal(EmbedDim, r.ImageEmbedding.Length);
            Assert.Equal(EmbedDim, r.TextEmbedding.Length);
            Assert.Equal(1.0, Math.Sqrt(r.ImageEmbedding.Sum(x => (double)x * x)), 4);
            Assert.Equal(4, r.Step);
        });
    }
}
