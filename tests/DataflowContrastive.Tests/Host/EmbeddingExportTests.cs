using System.Security.Cryptography;
using System.Text.Json;
using DataflowContrastive.Host.Commands;
using DataflowContrastive.Host.Export;
using DataflowContrastive.Host.Pipelines;
using DataflowContrastive.Train;
using Parquet;
using Parquet.Serialization;

namespace DataflowContrastive.Tests.Host;

/// <summary>
/// Exports of the committed COCO sample with a checkpoint of a tiny untrained model, read back with readers of our
/// own that share no code with the writers.
/// </summary>
public sealed class EmbeddingExportTests : IDisposable
{
    // The committed sample holds 51 good rows, 17 in each of its 3 shards (see CocoSampleTests).
    private const int SampleRows = 51;
    private const int RowsPerInputShard = 17;
    private const int EmbedDim = 16;

    private readonly string _work = Directory.CreateTempSubdirectory("dfc-export-").FullName;
    private readonly string _checkpoints;
    private readonly string _fingerprint;

    public EmbeddingExportTests()
    {
        (_checkpoints, _fingerprint) = WriteCheckpoint(Path.Combine(_work, "checkpoints"));
    }

    public void Dispose() => Directory.Delete(_work, recursive: true);

    [Fact]
    public async Task A_clip_retrieval_export_writes_aligned_float16_unit_rows_for_every_good_sample()
    {
        string output = Path.Combine(_work, "cr");

        int exitCode = await Export(output, "--layout", "clip-retrieval", "--rows-per-shard", "20");

        Assert.Equal(0, exitCode);
        string embeddings = Path.Combine(output, "embeddings");
        var keys = new List<string>();
        for (int n = 0; n < 3; n++)
        {
            NpyArray images = NpyArray.Read(Path.Combine(embeddings, "img_emb", $"img_emb_{n}.npy"));
            NpyArray texts = NpyArray.Read(Path.Combine(embeddings, "text_emb", $"text_emb_{n}.npy"));
            IList<EmbeddingMetadataRow> metadata = (await ParquetSerializer.DeserializeAsync<EmbeddingMetadataRow>(
                Path.Combine(embeddings, "metadata", $"metadata_{n}.parquet"))).Data;
            long rows = n < 2 ? 20 : 11;
            Assert.Equal([rows, EmbedDim], images.Shape);
            Assert.Equal([rows, EmbedDim], texts.Shape);
            Assert.Equal(rows, metadata.Count);
            AssertUnitRows(images.Float16(), tolerance: 2e-3);
            AssertUnitRows(texts.Float16(), tolerance: 2e-3);
            keys.AddRange(metadata.Select(m => m.Key));
        }
        Assert.False(File.Exists(Path.Combine(embeddings, "img_emb", "img_emb_3.npy")));
        Assert.Equal(SampleRows, keys.Distinct().Count());
        await AssertManifestListsTheFiles(embeddings, expectedShards: 3, expectedRows: SampleRows);
    }

    [Fact]
    public async Task Rows_of_the_npy_files_belong_to_the_keys_on_the_same_rows_of_the_metadata()
    {
        string clipRetrieval = Path.Combine(_work, "cr"), parquet = Path.Combine(_work, "pq");
        Assert.Equal(0, await Export(clipRetrieval, "--layout", "clip-retrieval", "--rows-per-shard", "20"));
        Assert.Equal(0, await Export(parquet, "--rows-per-shard", "50"));

        // The Parquet layout stores each key beside its own float32 embedding; the npy row must be its float16 copy.
        Dictionary<string, EmbeddingRow> byKey = [];
        foreach (string file in Directory.GetFiles(Path.Combine(parquet, "embeddings"), "embeddings-*.parquet"))
        {
            foreach (EmbeddingRow row in (await ParquetSerializer.DeserializeAsync<EmbeddingRow>(file)).Data)
            {
                byKey.Add(row.Key, row);
            }
        }
        string embeddings = Path.Combine(clipRetrieval, "embeddings");
        for (int n = 0; n < 3; n++)
        {
            float[] images = NpyArray.Read(Path.Combine(embeddings, "img_emb", $"img_emb_{n}.npy")).Float16();
            float[] texts = NpyArray.Read(Path.Combine(embeddings, "text_emb", $"text_emb_{n}.npy")).Float16();
            IList<EmbeddingMetadataRow> metadata = (await ParquetSerializer.DeserializeAsync<EmbeddingMetadataRow>(
                Path.Combine(embeddings, "metadata", $"metadata_{n}.parquet"))).Data;
            for (int i = 0; i < metadata.Count; i++)
            {
                EmbeddingRow expected = byKey[metadata[i].Key];
                Assert.Equal(expected.Caption, metadata[i].Caption);
                AssertClose(expected.ImageEmbedding, images.AsSpan(i * EmbedDim, EmbedDim), 1e-3);
                AssertClose(expected.TextEmbedding, texts.AsSpan(i * EmbedDim, EmbedDim), 1e-3);
            }
        }
    }

    [Fact]
    public async Task An_image_only_parquet_export_per_input_shard_mirrors_the_input_shards()
    {
        string output = Path.Combine(_work, "img");

        int exitCode = await Export(output, "--embeddings", "image", "--shard-per-input", "--safetensors");

        Assert.Equal(0, exitCode);
        string embeddings = Path.Combine(output, "embeddings");
        string[] shards = [.. Directory.GetFiles(embeddings, "embeddings-*.parquet").Order(StringComparer.Ordinal)];
        Assert.Equal(3, shards.Length);
        foreach (string shard in shards)
        {
            await using FileStream stream = File.OpenRead(shard);
            await using ParquetReader reader = await ParquetReader.CreateAsync(stream);
            Assert.Equal(["key", "caption", "label", "element", "step"],
                reader.Schema.GetDataFields().Select(f => f.Name));
            Assert.Equal("1", reader.CustomMetadata[ParquetEmbeddingLayout.StepKey]);
            Assert.Equal(_fingerprint, reader.CustomMetadata[ParquetEmbeddingLayout.FingerprintKey]);
            Assert.Equal(RowsPerInputShard, reader.Metadata!.NumRows);
        }
        using JsonDocument manifest = JsonDocument.Parse(File.ReadAllBytes(Path.Combine(embeddings, "manifest.json")));
        foreach (JsonElement shard in manifest.RootElement.GetProperty("shards").EnumerateArray())
        {
            JsonElement source = Assert.Single(shard.GetProperty("sources").EnumerateArray());
            Assert.Equal(0, source.GetProperty("first_row").GetInt64());
            Assert.Equal(RowsPerInputShard - 1, source.GetProperty("last_row").GetInt64());
        }
        byte[] weights = File.ReadAllBytes(Path.Combine(embeddings, "model.safetensors"));
        Assert.Equal(_fingerprint, Convert.ToHexStringLower(SHA256.HashData(weights)));
    }

    [Fact]
    public async Task An_export_pipeline_file_runs_through_dfc_run_with_the_model_of_its_checkpoint()
    {
        string pipeline = Path.Combine(_work, "export.yaml");
        await File.WriteAllTextAsync(pipeline, $"""
            kind: export
            source: {"{"} shards: '{TestPaths.Repo("samples", "coco-cc")}' {"}"}
            output: out
            images: {"{"} workers: 2 {"}"}
            train: {"{"} device: cpu {"}"}
            export: {"{"} checkpoint: '{_checkpoints}', rows_per_shard: 100 {"}"}
            """);

        int exitCode = await CommandLine.DispatchAsync(["run", pipeline], CancellationToken.None);

        Assert.Equal(0, exitCode);
        using JsonDocument summary = JsonDocument.Parse(File.ReadAllBytes(Path.Combine(_work, "out", "summary.json")));
        Assert.Equal(SampleRows, summary.RootElement.GetProperty("exported_rows").GetInt64());
        Assert.Equal(0, summary.RootElement.GetProperty("samples_trained").GetInt64());
        Assert.True(summary.RootElement.GetProperty("export_images_per_second").GetDouble() > 0);
        IList<EmbeddingRow> rows = (await ParquetSerializer.DeserializeAsync<EmbeddingRow>(
            Path.Combine(_work, "out", "embeddings", "embeddings-00000.parquet"))).Data;
        Assert.All(rows, r => Assert.Equal(EmbedDim, r.TextEmbedding.Length));
    }

    [Fact]
    public async Task An_export_of_a_mixed_folder_writes_one_row_per_good_row_and_rejects_the_rest()
    {
        MixedFolder folder = await MixedFolder.CreateAsync(Path.Combine(_work, "mixed"));
        string output = Path.Combine(_work, "mixed-out");

        int exitCode = await ExportFrom(folder.Path, output, "--layout", "clip-retrieval", "--rows-per-shard", "7");

        Assert.Equal(0, exitCode);
        string embeddings = Path.Combine(output, "embeddings");
        await AssertManifestListsTheFiles(embeddings, expectedShards: (int)((folder.Good + 6) / 7), folder.Good);
        long npyRows = Directory.GetFiles(Path.Combine(embeddings, "img_emb"), "*.npy")
            .Sum(f => NpyArray.Read(f).Shape[0]);
        Assert.Equal(folder.Good, npyRows);
        using JsonDocument summary = JsonDocument.Parse(File.ReadAllBytes(Path.Combine(output, "summary.json")));
        var rowReasons = summary.RootElement.GetProperty("rejected_by_reason").EnumerateObject()
            .Where(p => !p.Name.StartsWith("shard-", StringComparison.Ordinal))
            .ToDictionary(p => p.Name, p => p.Value.GetInt64());
        Assert.Equal(folder.Rejected.Where(p => !p.Key.StartsWith("shard-", StringComparison.Ordinal)), rowReasons);
    }

    private Task<int> Export(string output, params string[] options) =>
        ExportFrom(TestPaths.Repo("samples", "coco-cc"), output, options);

    private Task<int> ExportFrom(string shards, string output, params string[] options) =>
        CommandLine.DispatchAsync(
            ["export", "--checkpoint", _checkpoints, "--out", output, "--workers", "2", "--device", "cpu", .. options,
                shards],
            CancellationToken.None);

    // A checkpoint at step 1 of a tiny model, with the settings of the pipeline it came from, as a run writes it.
    private static (string Directory, string Fingerprint) WriteCheckpoint(string directory)
    {
        PipelineDefinition definition = PipelineFileReader.Parse($"""
            source: {"{"} shards: x.parquet {"}"}
            images: {"{"} size: 32 {"}"}
            model: {"{"} embed_dim: {EmbedDim}, image_widths: [4, 8], text_width: 16, text_layers: 1, text_heads: 2,
                     context_length: 16 {"}"}
            """, Path.Combine(directory, "tiny.yaml"));
        var tokenizer = new CaptionTokenizer(definition.Model.ContextLength);
        using var trainer = new ClipTrainer(definition.Model(tokenizer.VocabularySize), definition.Optimizer(), 1,
            DeviceSelector.Resolve("cpu"), seed: 5);
        int size = 3 * 32 * 32;
        var images = new float[2 * size];
        images.AsSpan(size).Fill(0.5f);
        var tokens = new long[2 * 16];
        tokens[0] = tokens[16] = CaptionTokenizer.StartOfText;
        tokens[1] = tokens[17] = CaptionTokenizer.EndOfText;
        trainer.TrainStep(images, tokens, 2);
        new CheckpointStore(directory, keep: 1).Save(trainer, JsonSerializer.Serialize(definition));
        return (directory, Safetensors.Fingerprint(trainer.Model));
    }

    private static void AssertUnitRows(float[] values, double tolerance)
    {
        for (int row = 0; row < values.Length / EmbedDim; row++)
        {
            double norm = Math.Sqrt(values.AsSpan(row * EmbedDim, EmbedDim).ToArray().Sum(x => (double)x * x));
            Assert.InRange(norm, 1 - tolerance, 1 + tolerance);
        }
    }

    private static void AssertClose(float[] expected, ReadOnlySpan<float> actual, double tolerance)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++)
        {
            Assert.InRange(actual[i], expected[i] - tolerance, expected[i] + tolerance);
        }
    }

    private static async Task AssertManifestListsTheFiles(string directory, int expectedShards, long expectedRows)
    {
        using JsonDocument manifest = JsonDocument.Parse(await File.ReadAllBytesAsync(
            Path.Combine(directory, ExportManifest.FileName)));
        JsonElement root = manifest.RootElement;
        Assert.True(root.GetProperty("complete").GetBoolean());
        Assert.Equal(expectedRows, root.GetProperty("rows").GetInt64());
        JsonElement[] shards = [.. root.GetProperty("shards").EnumerateArray()];
        Assert.Equal(expectedShards, shards.Length);
        Assert.Equal(expectedRows, shards.Sum(s => s.GetProperty("rows").GetInt64()));
        foreach (JsonElement file in shards.SelectMany(s => s.GetProperty("files").EnumerateArray()))
        {
            byte[] bytes = await File.ReadAllBytesAsync(Path.Combine(directory, file.GetProperty("path").GetString()!));
            Assert.Equal(file.GetProperty("sha256").GetString(), Convert.ToHexStringLower(SHA256.HashData(bytes)));
        }
        Assert.Empty(Directory.GetFiles(directory, "*.tmp", SearchOption.AllDirectories));
    }
}
