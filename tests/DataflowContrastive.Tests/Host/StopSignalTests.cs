using System.Diagnostics;

namespace DataflowContrastive.Tests.Host;

public sealed class StopSignalTests : IDisposable
{
    private readonly string _work = Directory.CreateTempSubdirectory("dfc-stop-").FullName;

    public void Dispose() => Directory.Delete(_work, recursive: true);

    [Fact]
    public async Task Sigterm_stops_the_run_after_the_current_step_with_a_checkpoint_and_exit_code_0()
    {
        string pipeline = Path.Combine(_work, "long.yaml");
        await File.WriteAllTextAsync(pipeline, $"""
            source: {"{"} shards: {TestPaths.Repo("samples", "coco-cc")}, shuffle_buffer: 8 {"}"}
            output: out
            images: {"{"} size: 32 {"}"}
            batch: {"{"} size: 8 {"}"}
            model: {"{"} embed_dim: 8, image_widths: [4], text_width: 16, text_layers: 1, text_heads: 2 {"}"}
            train: {"{"} steps: 100000, device: cpu, log_every: 1 {"}"}
            checkpoint: {"{"} every: 100000 {"}"}
            """);
        using Process dfc = StartDfc("run", pipeline);
        var lines = new List<string>();
        var firstStep = new TaskCompletionSource();
        dfc.OutputDataReceived += (_, e) =>
        {
            lock (lines)
            {
                lines.Add(e.Data ?? "");
            }
            if (e.Data?.Contains("step 3/100000", StringComparison.Ordinal) == true)
            {
                firstStep.TrySetResult();
            }
        };
        dfc.BeginOutputReadLine();

        await firstStep.Task.WaitAsync(TimeSpan.FromSeconds(120));
        Assert.Equal(0, Kill(dfc.Id, "TERM"));
        await dfc.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(60));

        Assert.Equal(0, dfc.ExitCode);
        string[] checkpoints = Directory.GetDirectories(Path.Combine(_work, "out", "checkpoints"));
        Assert.Single(checkpoints);
        Assert.False(File.Exists(Path.Combine(_work, "out", "embeddings", "embeddings-00000.parquet")));
        string summary = await File.ReadAllTextAsync(Path.Combine(_work, "out", "summary.json"));
        Assert.Contains("\"interrupted\": true", summary, StringComparison.Ordinal);
    }

    private static Process StartDfc(params string[] args)
    {
        var start = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "dfc.dll"));
        foreach (string arg in args)
        {
            start.ArgumentList.Add(arg);
        }
        return Process.Start(start) ?? throw new InvalidOperationException("dotnet did not start");
    }

    private static int Kill(int pid, string signal)
    {
        string target = pid.ToString(System.Globalization.CultureInfo.InvariantCulture);
        using Process kill = Process.Start("kill", ["-" + signal, target]);
        kill.WaitForExit();
        return kill.ExitCode;
    }
}
