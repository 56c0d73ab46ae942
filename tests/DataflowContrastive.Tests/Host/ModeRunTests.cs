using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;
using DataflowContrastive.Host.Commands;
using DataflowContrastive.Host.Export;
using Parquet.Serialization;

namespace DataflowContrastive.Tests.Host;

/// <summary>
/// <c>dfc run</c> end to end in the image-only modes, on a few CIFAR-10 test images packed by the test: the loss falls,
/// the export holds the backbone's image embeddings alone, and data that a mode cannot use is refused or rejected.
/// </summary>
public sealed partial class ModeRunTests : IDisposable
{
    // The last stage of the tiny model below: the width of the exported representation.
    private const int RepresentationWidth = 16;

    private readonly string _work = Directory.CreateTempSubdirectory("dfc-modes-").FullName;

    public void Dispose() => Directory.Delete(_work, recursive: true);

    [Theory]
    [InlineData("simclr", "size: 8", 0.5)]
    [InlineData("supcon", "classes: 4, per_class: 2", 0.1)]
    public async Task A_tiny_image_only_run_lowers_its_loss_and_exports_image_embeddings(string mode, string batch,
        double temperature)
    {
        string shards = TinyCifar.Pack(_work, perClass: 6);
        string pipeline = WritePipeline(mode, shards, batch, temperature, "train: { steps: 60, device: cpu, " +
            "log_every: 1 }\nexport: { rows_per_shard: 100 }");

        (int exitCode, string output) = await DfcProcess.RunCapturingAsync(pipeline);

        Assert.True(exitCode == 0, output);
        double[] losses = [.. LossLine().Matches(output).Select(m => double.Parse(m.Groups[1].Value,
            CultureInfo.InvariantCulture))];
        Assert.Equal(60, losses.Length);
        Assert.True(losses[^15..].Average() < losses[..15].Average() - 0.05,
            $"the loss did not fall: {string.Join(", ", losses)}");

        // The log shows the temperature t of the loss, not the logit scale 1/t.
        Assert.All(TemperatureLine().Matches(output), m =>
            Assert.Equal(temperature.ToString("F3", CultureInfo.InvariantCulture), m.Groups[1].Value));
        Assert.Equal(60, TemperatureLine().Count(output));

        string embeddings = Path.Combine(_work, mode, "embeddings");
        var rows = new List<ImageEmbeddingRow>();
        foreach (string shard in Directory.GetFiles(embeddings, "embeddings-*.parquet"))
        {
            rows.AddRange((await ParquetSerializer.DeserializeAsync<ImageEmbeddingRow>(shard)).Data);
        }
        Assert.Equal(60, rows.Count);
        Assert.All(rows, r =>
        {
            Assert.Equal(RepresentationWidth, r.ImageEmbedding.Length);
            Assert.Equal(1.0, Math.Sqrt(r.ImageEmbedding.Sum(x => (double)x * x)), 4);
        });
        using JsonDocument manifest = JsonDocument.Parse(
            await File.ReadAllTextAsync(Path.Combine(embeddings, "manifest.json")));
        Assert.Equal("image", manifest.RootElement.GetProperty("embeddings").GetString());

        // dfc export takes the mode from the checkpoint: image embeddings alone, even when both are asked for.
        string exported = Path.Combine(_work, mode + "-export");
        Assert.Equal(0, await CommandLine.DispatchAsync(["export", "--checkpoint",
            Path.Combine(_work, mode, "checkpoints"), "--out", exported, "--layout", "clip-retrieval", "--embeddings",
            "both", "--device", "cpu", shards], CancellationToken.None));
        Assert.True(File.Exists(Path.Combine(exported, "embeddings", "img_emb", "img_emb_0.npy")));
        Assert.False(Directory.Exists(Path.Combine(exported, "embeddings", "text_emb")));
    }

    [Fact]
    public async Task A_time_limited_run_ends_early_and_evaluates_on_held_out_shards()
    {
        string shards = TinyCifar.Pack(_work, perClass: 6);
        string heldOut = TinyCifar.Pack(_work, perClass: 2);
        string pipeline = WritePipeline("simclr", shards, "size: 8", 0.5,
            "train: { steps: 100000, max_minutes: 0.05, device: cpu }\nexport: { enabled: false }\n" +
            $"eval: {{ shards: {heldOut}, knn_k: 3 }}");

        (int exitCode, string output) = await DfcProcess.RunCapturingAsync(pipeline);

        Assert.True(exitCode == 0, output);
        Assert.Contains("train.max_minutes (0.05 min) reached", output, StringComparison.Ordinal);
        using JsonDocument summary = JsonDocument.Parse(
            await File.ReadAllTextAsync(Path.Combine(_work, "simclr", "summary.json")));
        int steps = summary.RootElement.GetProperty("steps").GetInt32();
        Assert.InRange(steps, 1, 99_999);
        Assert.False(summary.RootElement.GetProperty("interrupted").GetBoolean());
        Assert.True(Directory.Exists(Path.Combine(_work, "simclr", "checkpoints",
            FormattableString.Invariant($"step-{steps:D8}"))));
        JsonElement metrics = JsonDocument.Parse(
            await File.ReadAllTextAsync(Path.Combine(_work, "simclr", "metrics.json"))).RootElement;
        Assert.Equal(20, metrics.GetProperty("held_out_samples").GetInt32());
        Assert.Equal(60, metrics.GetProperty("memory_samples").GetInt32());
        Assert.InRange(metrics.GetProperty("knn_top1").GetDouble(), 0, 1);
    }

    [Fact]
    public async Task Supcon_on_shards_without_labels_is_refused_before_any_training()
    {
        string pipeline = WritePipeline("supcon", TestPaths.Repo("samples", "coco-cc"), "classes: 2, per_class: 2",
            0.1, "train: { steps: 4, device: cpu }");

        (int exitCode, string output) = await DfcProcess.RunCapturingAsync(pipeline);

        Assert.Equal(1, exitCode);
        Assert.Contains("mode: supcon needs class labels", output, StringComparison.Ordinal);
        Assert.False(Directory.Exists(Path.Combine(_work, "supcon", "checkpoints")));
    }

    [Fact]
    public async Task A_sample_without_a_label_is_rejected_and_counted_in_supcon_mode()
    {
        // Two images packed from a table, which has no labels, beside the labelled class folders.
        string extra = Directory.CreateDirectory(Path.Combine(_work, "extra")).FullName;
        File.Copy(TestPaths.Shared("data", "cifar10-test", "cat", "0000.jpg"), Path.Combine(extra, "a.jpg"));
        File.Copy(TestPaths.Shared("data", "cifar10-test", "dog", "0000.jpg"), Path.Combine(extra, "b.jpg"));
        await File.WriteAllTextAsync(Path.Combine(extra, "table.csv"), "image,caption\na.jpg,one\nb.jpg,two\n");
        string shards = Path.Combine(_work, "mixed");
        Assert.Equal(0, await CommandLine.DispatchAsync(["pack", "--table", Path.Combine(extra, "table.csv"),
            "--class-folders", TestPaths.Shared("data", "cifar10-test"), "--per-class", "4", "--out", shards],
            CancellationToken.None));
        string pipeline = WritePipeline("supcon", shards, "classes: 2, per_class: 2", 0.1,
            "train: { epochs: 1, device: cpu }\nexport: { enabled: false }");

        (int exitCode, string output) = await DfcProcess.RunCapturingAsync(pipeline);

        Assert.True(exitCode == 0, output);
        using JsonDocument summary = JsonDocument.Parse(
            await File.ReadAllTextAsync(Path.Combine(_work, "supcon", "summary.json")));
        Assert.Equal(2, summary.RootElement.GetProperty("rejected_by_reason").GetProperty("label-missing").GetInt64());
    }

    // Mild augmentations, so that a model this small learns within a few dozen steps.
    private string WritePipeline(string mode, string shards, string batch, double temperature, string rest)
    {
        string path = Path.Combine(_work, mode + ".yaml");
        File.WriteAllText(path, FormattableString.Invariant($"""
            mode: {mode}
            source: {"{"} shards: {shards}, shuffle_buffer: 64 {"}"}
            output: {mode}
            images: {"{"} size: 16, workers: 2, scale: [0.8, 1.0], jitter: {"{"} probability: 0 {"}"},
                      grayscale: 0 {"}"}
            batch: {"{"} {batch} {"}"}
            model: {"{"} embed_dim: 8, image_widths: [8, {RepresentationWidth}] {"}"}
            loss: {"{"} temperature: {temperature} {"}"}
            optimizer: {"{"} learning_rate: 0.01, warmup_steps: 0, weight_decay: 0.0001 {"}"}
            {rest}
            """));
        return path;
    }

    [GeneratedRegex(@"step \d+/\d+ loss ([0-9.]+) ")]
    private static partial Regex LossLine();

    [GeneratedRegex(@"step \d+/\d+ loss [0-9.]+ lr \S+ temperature ([0-9.]+) ")]
    private static partial Regex TemperatureLine();
}
