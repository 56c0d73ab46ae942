using System.Text.Json;
using DataflowContrastive.Host.Commands;
using DataflowContrastive.Host.Running;

namespace DataflowContrastive.Tests.Host;

/// <summary>The metrics files of short real runs on the COCO sample, and how a resumed run keeps them.</summary>
public sealed class EvaluationRunTests : IDisposable
{
    private static readonly int[] Ks = [1, 5, 10];

    private readonly string _work = Directory.CreateTempSubdirectory("dfc-eval-").FullName;

    public void Dispose() => Directory.Delete(_work, recursive: true);

    [Fact]
    public async Task A_run_evaluates_every_n_steps_and_at_the_end_into_the_metrics_files_and_summary()
    {
        string pipeline = WritePipeline(steps: 5);

        Assert.Equal(0, await CommandLine.DispatchAsync(["run", pipeline], CancellationToken.None));

        JsonElement[] records = ReadLines();
        Assert.Equal([2, 4, 5], records.Select(r => r.GetProperty("step").GetInt32()));
        Assert.Equal([16, 32, 40], records.Select(r => r.GetProperty("samples_trained").GetInt64()));
        Assert.All(records, AssertFigures);

        using JsonDocument latest = JsonDocument.Parse(File.ReadAllText(Path.Combine(_work, "out", "metrics.json")));
        Assert.Equal(records[^1].GetRawText(), latest.RootElement.GetRawText());
        using JsonDocument summary = JsonDocument.Parse(File.ReadAllText(Path.Combine(_work, "out", "summary.json")));
        JsonElement evaluation = summary.RootElement.GetProperty("evaluation");
        Assert.Equal(5, evaluation.GetProperty("step").GetInt32());
        Assert.Equal(records[^1].GetProperty("image_to_text_at_1").GetDouble(),
            evaluation.GetProperty("image_to_text_at_1").GetDouble());
    }

    [Fact]
    public async Task A_resumed_run_keeps_the_records_up_to_its_checkpoint_and_adds_the_rest()
    {
        Assert.Equal(0, await CommandLine.DispatchAsync(["run", WritePipeline(steps: 4)], CancellationToken.None));
        JsonElement[] before = ReadLines();

        Assert.Equal(0, await CommandLine.DispatchAsync(["run", WritePipeline(steps: 6)], CancellationToken.None));

        JsonElement[] after = ReadLines();
        Assert.Equal([2, 4, 6], after.Select(r => r.GetProperty("step").GetInt32()));
        Assert.Equal(before.Select(r => r.GetRawText()), after.Take(2).Select(r => r.GetRawText()));
    }

    [Fact]
    public async Task Opening_the_log_at_a_step_drops_later_records_and_a_line_cut_short()
    {
        string folder = Path.Combine(_work, "log");
        Directory.CreateDirectory(folder);
        await File.WriteAllTextAsync(Path.Combine(folder, MetricsLog.LinesFile),
            "{\"step\":2,\"samples_trained\":8}\n{\"step\":4,\"samples_trained\":16}\n" +
            "{\"step\":6,\"samples_trained\":24}\n{\"step\":8,\"samp");

        MetricsLog log = await MetricsLog.OpenAsync(folder, 4, default);

        Assert.Equal([2, 4], log.Records.Select(r => r.Step));
        Assert.Equal(2, File.ReadAllLines(Path.Combine(folder, MetricsLog.LinesFile)).Length);
        using JsonDocument latest = JsonDocument.Parse(File.ReadAllText(Path.Combine(folder, MetricsLog.LatestFile)));
        Assert.Equal(4, latest.RootElement.GetProperty("step").GetInt32());
    }

    private static void AssertFigures(JsonElement record)
    {
        foreach (string direction in (string[])["image_to_text", "text_to_image"])
        {
            double[] recall = [.. Ks.Select(k => record.GetProperty($"{direction}_at_{k}").GetDouble())];
            Assert.All(recall, r => Assert.InRange(r, 0, 1));
            Assert.True(recall[0] <= recall[1] && recall[1] <= recall[2], "recall grows with k");
        }

        // The COCO sample has no labels: no k-NN figure.
        Assert.False(record.TryGetProperty("knn_top1", out _));
        Assert.InRange(record.GetProperty("held_out_samples").GetInt32(), 2, 50);
        Assert.Equal(51 - record.GetProperty("held_out_samples").GetInt32(),
            record.GetProperty("memory_samples").GetInt32());
        Assert.InRange(record.GetProperty("embedding_std_mean").GetDouble(), 0, 1);
        Assert.Equal(8, record.GetProperty("embedding_dimension").GetInt32());
    }

    private JsonElement[] ReadLines() =>
        [.. File.ReadAllLines(Path.Combine(_work, "out", MetricsLog.LinesFile))
            .Select(line => JsonDocument.Parse(line).RootElement.Clone())];

    private string WritePipeline(int steps)
    {
        string path = Path.Combine(_work, "eval.yaml");
        File.WriteAllText(path, $"""
            source: {"{"} shards: {TestPaths.Repo("samples", "coco-cc")}, shuffle_buffer: 8 {"}"}
            output: out
            images: {"{"} size: 16, workers: 2 {"}"}
            batch: {"{"} size: 8 {"}"}
            model: {"{"} embed_dim: 8, image_widths: [4, 8], text_width: 16, text_layers: 1, text_heads: 2,
                     context_length: 12 {"}"}
            train: {"{"} steps: {steps}, seed: 3, device: cpu, log_every: 1 {"}"}
            checkpoint: {"{"} every: 4, keep: 2 {"}"}
            export: {"{"} enabled: false {"}"}
            eval: {"{"} holdout: 0.3, every: 2, knn_k: 5 {"}"}
            """);
        return path;
    }
}
