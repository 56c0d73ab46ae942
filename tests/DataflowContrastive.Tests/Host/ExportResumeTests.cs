using System.Diagnostics;
using System.Text.Json;
using DataflowContrastive.Host.Commands;

namespace DataflowContrastive.Tests.Host;

/// <summary>
/// An export killed after some of its shards are finished, and started again, ends with exactly the shards an
/// uninterrupted export writes: the same rows in the same shards, byte for byte, none twice and none missing.
/// </summary>
public sealed class ExportResumeTests : IDisposable
{
    private readonly string _work = Directory.CreateTempSubdirectory("dfc-export-resume-").FullName;

    public void Dispose() => Directory.Delete(_work, recursive: true);

    [Fact]
    public async Task An_export_killed_part_way_and_restarted_writes_exactly_the_shards_of_an_uninterrupted_one()
    {
        string checkpoints = await TrainTinyModelAsync();

        Assert.Equal(0, await ExportAsync("reference", checkpoints, killAfterShards: null));
        int killed = 0;
        while (await ExportAsync("interrupted", checkpoints, killAfterShards: 2 + (6 * killed)) != 0)
        {
            killed++;
        }

        Assert.True(killed > 0, "the export was killed at least once before it completed");
        JsonElement reference = Manifest("reference");
        JsonElement interrupted = Manifest("interrupted");
        Assert.True(interrupted.GetProperty("complete").GetBoolean());
        Assert.Equal(reference.GetProperty("shards").ToString(), interrupted.GetProperty("shards").ToString());
        Assert.Equal(51, interrupted.GetProperty("shards").EnumerateArray().Sum(s => s.GetProperty("rows").GetInt64()));
    }

    private JsonElement Manifest(string name)
    {
        string text = File.ReadAllText(Path.Combine(_work, name, "embeddings", "manifest.json"));
        return JsonDocument.Parse(text.Replace(Path.Combine(_work, name), "OUT", StringComparison.Ordinal))
            .RootElement.Clone();
    }

    private async Task<string> TrainTinyModelAsync()
    {
        string pipeline = Path.Combine(_work, "train.yaml");
        await File.WriteAllTextAsync(pipeline, $"""
            source: {"{"} shards: {TestPaths.Repo("samples", "coco-cc")} {"}"}
            output: trained
            images: {"{"} size: 96 {"}"}
            batch: {"{"} size: 4 {"}"}
            model: {"{"} embed_dim: 8, image_widths: [4, 8], text_width: 16, text_layers: 1, text_heads: 2 {"}"}
            train: {"{"} steps: 1, device: cpu {"}"}
            export: {"{"} enabled: false {"}"}
            """);
        Assert.Equal(0, await CommandLine.DispatchAsync(["run", pipeline], CancellationToken.None));
        return Path.Combine(_work, "trained", "checkpoints");
    }

    // Runs `dfc export` in a child process; with killAfterShards, kills it once the manifest lists that many shards.
    private async Task<int> ExportAsync(string name, string checkpoints, int? killAfterShards)
    {
        var start = new ProcessStartInfo("dotnet") { UseShellExecute = false, RedirectStandardOutput = true };
        foreach (string arg in new[]
        {
            Path.Combine(AppContext.BaseDirectory, "dfc.dll"), "export", "--checkpoint", checkpoints,
            "--out", Path.Combine(_work, name), "--rows-per-shard", "3", "--batch-size", "2", "--workers", "1",
            "--device", "cpu", TestPaths.Repo("samples", "coco-cc"),
        })
        {
            start.ArgumentList.Add(arg);
        }
        using Process dfc = Process.Start(start) ?? throw new InvalidOperationException("dotnet did not start");
        dfc.OutputDataReceived += (_, _) => { };
        dfc.BeginOutputReadLine();

        string manifest = Path.Combine(_work, name, "embeddings", "manifest.json");
        while (killAfterShards is { } shards && !dfc.HasExited)
        {
            if (ListedShards(manifest) >= shards)
            {
                dfc.Kill();
                break;
            }
            await Task.Delay(5);
        }
        await dfc.WaitForExitAsync().WaitAsync(TimeSpan.FromMinutes(3));
        return dfc.ExitCode;
    }

    private static int ListedShards(string manifest)
    {
        try
        {
            using JsonDocument document = JsonDocument.Parse(File.ReadAllText(manifest));
            return document.RootElement.GetProperty("shards").GetArrayLength();
        }
        catch (Exception e) when (e is IOException or JsonException)
        {
            return 0;
        }
    }
}
