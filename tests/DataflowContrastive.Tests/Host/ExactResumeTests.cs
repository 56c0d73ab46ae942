using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace DataflowContrastive.Tests.Host;

/// <summary>
/// A run whose process is killed at random moments, once in the middle of a checkpoint write, and restarted each
/// time, ends exactly where an uninterrupted run ends: the same weights and optimizer state, bit for bit, after the
/// same sequence of batches. Both runs are real child processes on the CPU with one seed; libtorch's CPU kernels give
/// identical results for identical inputs and thread counts, so no tolerance is needed.
/// </summary>
public sealed class ExactResumeTests : IDisposable
{
    private const int Steps = 36;

    private readonly string _work = Directory.CreateTempSubdirectory("dfc-resume-").FullName;

    public void Dispose() => Directory.Delete(_work, recursive: true);

    // simclr trains two views per image; supcon also holds samples back in its class-balanced batcher, which a
    // checkpoint must record and a resumed run must replay.
    [Theory]
    [InlineData("clip")]
    [InlineData("simclr")]
    [InlineData("supcon")]
    public async Task A_run_killed_at_random_moments_and_resumed_ends_bit_for_bit_as_an_uninterrupted_run(string mode)
    {
        string reference = WritePipeline("reference", mode: mode);
        string interrupted = WritePipeline("interrupted", mode: mode);

        Assert.Equal(0, await RunAsync(reference, killAfter: null, crashInCheckpointAt: null));

        // First a crash half-way through writing the checkpoint of step 8, then kills at seeded random moments: a
        // random time after a random step has been logged, so some land inside a step and some between steps.
        Assert.NotEqual(0, await RunAsync(interrupted, killAfter: null, crashInCheckpointAt: 8));
        Assert.True(Directory.Exists(Checkpoint("interrupted", 4)));
        // Each kill waits for a seeded random step a little past the newest checkpoint, then a seeded random few
        // milliseconds, so some land inside a step and some between steps. The image-only modes take a step in a few
        // milliseconds and the log line arrives a little late, so the delays stay short and a kill that came after
        // the run's end (exit code 0) ends the kills; three must land for the run to be resumed three times.
        var random = new Random(20261203);
        int killed = 0;
        bool finished = false;
        while (killed < 3 && !finished)
        {
            int step = NewestCheckpointStep("interrupted") + random.Next(1, 4);
            finished = step >= Steps ||
                await RunAsync(interrupted, (step, TimeSpan.FromMilliseconds(random.Next(0, 12))), null) == 0;
            killed += finished ? 0 : 1;
        }
        Assert.Equal(3, killed);
        Assert.Equal(0, await RunAsync(interrupted, killAfter: null, crashInCheckpointAt: null));

        Assert.Equal(File.ReadAllBytes(Path.Combine(Checkpoint("reference", Steps), "model.bin")),
            File.ReadAllBytes(Path.Combine(Checkpoint("interrupted", Steps), "model.bin")));
        Assert.Equal(File.ReadAllBytes(Path.Combine(Checkpoint("reference", Steps), "optimizer.bin")),
            File.ReadAllBytes(Path.Combine(Checkpoint("interrupted", Steps), "optimizer.bin")));
        Assert.Equal(Progress("reference"), Progress("interrupted"));

        // Evaluations every 3 steps drew nothing from the training's randomness, and the resumed process redid the
        // ones its predecessor made after its last checkpoint: the same records, step for step.
        Assert.Equal(Enumerable.Range(1, Steps / 3).Select(i => i * 3), Metrics("reference").Select(m => m.Step));
        Assert.Equal(Metrics("reference").Select(m => m.Figures), Metrics("interrupted").Select(m => m.Figures));
    }

    [Fact]
    public async Task A_checkpoint_from_other_settings_is_refused_with_what_changed()
    {
        string pipeline = WritePipeline("changed", steps: 4);
        Assert.Equal(0, await RunAsync(pipeline, killAfter: null, crashInCheckpointAt: null));
        await File.WriteAllTextAsync(pipeline, (await File.ReadAllTextAsync(pipeline)).Replace(
            "seed: 5", "seed: 6", StringComparison.Ordinal).Replace("steps: 4", "steps: 6", StringComparison.Ordinal));

        (int exitCode, string output) = await DfcProcess.RunCapturingAsync(pipeline);

        Assert.Equal(1, exitCode);
        Assert.Contains("train.seed was 5, is now 6", output, StringComparison.Ordinal);
        Assert.Contains("--resume-anyway", output, StringComparison.Ordinal);
    }

    private int NewestCheckpointStep(string run) =>
        Directory.GetDirectories(Path.Combine(_work, run, "checkpoints"), "step-*")
            .Select(d => int.Parse(Path.GetFileName(d)["step-".Length..], CultureInfo.InvariantCulture))
            .DefaultIfEmpty(0).Max();

    private string Checkpoint(string run, int step) =>
        Path.Combine(_work, run, "checkpoints", FormattableString.Invariant($"step-{step:D8}"));

    private (string Digest, long Trained, int Epoch, long Next) Progress(string run)
    {
        using JsonDocument progress = JsonDocument.Parse(
            File.ReadAllText(Path.Combine(Checkpoint(run, Steps), "progress.json")));
        JsonElement p = progress.RootElement;
        return (p.GetProperty("batch_keys_digest").GetString()!, p.GetProperty("samples_trained").GetInt64(),
            p.GetProperty("epoch").GetInt32(), p.GetProperty("next_index").GetInt64());
    }

    // Each record of metrics.jsonl without its wall-clock time, which differs from run to run.
    private (int Step, string Figures)[] Metrics(string run) =>
        [.. File.ReadAllLines(Path.Combine(_work, run, "metrics.jsonl")).Select(line =>
        {
            JsonObject record = JsonNode.Parse(line)!.AsObject();
            record.Remove("seconds");
            return (record["step"]!.GetValue<int>(), record.ToJsonString());
        })];

    private string WritePipeline(string name, int steps = Steps, string mode = "clip")
    {
        string path = Path.Combine(_work, name + ".yaml");
        string shards = mode == "supcon" ? TinyCifar.Pack(_work, perClass: 6) : TestPaths.Repo("samples", "coco-cc");
        string batch = mode == "supcon" ? "classes: 2, per_class: 2" : "size: 4";
        File.WriteAllText(path, $"""
            mode: {mode}
            source: {"{"} shards: {shards}, shuffle_buffer: 8 {"}"}
            output: {name}
            images: {"{"} size: 16, workers: 2, recipe: {mode} {"}"}
            batch: {"{"} {batch} {"}"}
            model: {"{"} embed_dim: 8, image_widths: [4, 8], text_width: 16, text_layers: 1, text_heads: 2,
                     context_length: 12 {"}"}
            train: {"{"} steps: {steps}, seed: 5, device: cpu, log_every: 1 {"}"}
            checkpoint: {"{"} every: 4, keep: 2 {"}"}
            export: {"{"} enabled: false {"}"}
            eval: {"{"} holdout: 0.2, every: 3 {"}"}
            """);
        return path;
    }

    // With killAfter, the process is killed the given time after it logs that step.
    private static async Task<int> RunAsync(string pipeline, (int Step, TimeSpan Delay)? killAfter,
        int? crashInCheckpointAt)
    {
        var stepLogged = new TaskCompletionSource();
        using Process dfc = DfcProcess.Start(pipeline, crashInCheckpointAt, redirect: false, line =>
        {
            if (killAfter is { } kill && line.Contains($"step {kill.Step}/{Steps} ", StringComparison.Ordinal))
            {
                stepLogged.TrySetResult();
            }
        });
        Task exited = dfc.WaitForExitAsync();
        if (killAfter is { } when && await Task.WhenAny(exited, stepLogged.Task) != exited)
        {
            await Task.Delay(when.Delay);
            dfc.Kill();
        }
        await exited.WaitAsync(TimeSpan.FromMinutes(3));
        return dfc.ExitCode;
    }
}
