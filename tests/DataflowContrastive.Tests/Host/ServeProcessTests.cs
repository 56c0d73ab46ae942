using System.Diagnostics;
using DataflowContrastive.Host.Ledger;

namespace DataflowContrastive.Tests.Host;

/// <summary>
/// The real <c>dfc serve</c> process, on tiny models: shards dropped into a watched folder, a process killed in the
/// middle of a shard and restarted, and a stop signal. "Exactly once" is read from three places: the ledger (one
/// entry per shard, done), the index (one entry per shard) and the embedding files (as many rows as the shard).
/// </summary>
public sealed class ServeProcessTests : IDisposable
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(180);

    private readonly string _work = Directory.CreateTempSubdirectory("dfc-serve-").FullName;

    public void Dispose() => Directory.Delete(_work, recursive: true);

    private string Out(string pipeline, params string[] parts) => Path.Combine([_work, pipeline + "-out", .. parts]);

    [Fact]
    public async Task Shards_dropped_into_a_watched_folder_are_ingested_exactly_once()
    {
        string pipeline = ServeKit.WritePipeline(_work, "watched",
            "watch: true, rescan_seconds: 1, settle_seconds: 0, steps_per_shard: 2");
        using Process dfc = ServeKit.StartDfc("serve", pipeline);
        (List<string> lines, Task started) = ServeKit.Watch(dfc, "pass (start)");
        await started.WaitAsync(Patience);

        string first = ServeKit.Drop(Path.Combine(_work, "in"), "coco-cc-00000.parquet");
        await UntilAsync(() => ServeKit.Index(Out("watched", "embeddings")).Count == 1, lines);
        string second = ServeKit.Drop(Path.Combine(_work, "in"), "coco-cc-00001.parquet");
        await UntilAsync(() => ServeKit.Index(Out("watched", "embeddings")).Count == 2, lines);

        // Several rescans and watcher events later, nothing is taken up twice.
        await Task.Delay(TimeSpan.FromSeconds(3));
        Assert.Equal(0, ServeKit.Kill(dfc.Id, "TERM"));
        await dfc.WaitForExitAsync().WaitAsync(Patience);
        Assert.Equal(0, dfc.ExitCode);

        var ledger = await ServeKit.LedgerAsync(pipeline);
        Assert.Equal([(first, ShardState.Done, 1), (second, ShardState.Done, 1)], ledger);
        var index = ServeKit.Index(Out("watched", "embeddings"));
        Assert.Equal([first, second], index.Select(e => e.Source));
        foreach ((string source, long rows, string _, string[] files) in index)
        {
            long shardRows = await ServeKit.RowsAsync(source);
            Assert.Equal(shardRows, rows);
            Assert.Equal(shardRows, await RowsAsync(Out("watched", "embeddings"), files));
        }
        Assert.Equal(2, Directory.GetDirectories(Out("watched", "embeddings", "shards")).Length);
    }

    // A pass that fails for a reason not the shard's (here an export folder under a regular file) lets the shard's
    // lease go, so each retry takes the shard up again at once; each failure names its real cause, and --once gives
    // up after two retries with exit code 1, leaving the shard to a later run.
    [Fact]
    public async Task A_shard_whose_work_fails_is_let_go_for_each_retry_and_the_cause_is_told()
    {
        string shard = ServeKit.Drop(Directory.CreateDirectory(Path.Combine(_work, "in")).FullName,
            "coco-cc-00000.parquet");
        string pipeline = ServeKit.WritePipeline(_work, "blocked",
            "retry_delay_seconds: 1, settle_seconds: 0, steps_per_shard: 2");
        await File.WriteAllTextAsync(Path.Combine(_work, "afile"), "");
        await File.AppendAllTextAsync(pipeline, "\nexport: { directory: afile/emb }\n");

        using Process dfc = ServeKit.StartDfc("serve", pipeline, "--once");
        (List<string> lines, Task _) = ServeKit.Watch(dfc, "never");
        await dfc.WaitForExitAsync().WaitAsync(Patience);

        string output;
        lock (lines)
        {
            output = string.Join('\n', lines);
        }
        Assert.True(dfc.ExitCode == 1, output);
        Assert.Equal(3, lines.Count(l => l.Contains(Path.Combine(_work, "afile", "emb"), StringComparison.Ordinal)
            && l.Contains("Pipeline blocked", StringComparison.Ordinal)));
        Assert.Equal([(shard, ShardState.InProgress, 3)], await ServeKit.LedgerAsync(pipeline));
    }

    [Fact]
    public async Task A_service_killed_in_the_middle_of_a_shard_finishes_it_exactly_once_after_a_restart()
    {
        string pipeline = ServeKit.WritePipeline(_work, "killed", "steps_per_shard: 16, lease_seconds: 3",
            checkpointEvery: 3);
        string shard = ServeKit.Drop(Path.Combine(_work, "in"), "coco-cc-00000.parquet");

        using (Process first = ServeKit.StartDfc("serve", pipeline, "--once"))
        {
            (List<string> _, Task stepped) = ServeKit.Watch(first, "step 7/16");
            await stepped.WaitAsync(Patience);
            Assert.Equal(0, ServeKit.Kill(first.Id, "KILL"));
            await first.WaitForExitAsync().WaitAsync(Patience);
        }
        Assert.Empty(ServeKit.Index(Out("killed", "embeddings")));

        using Process second = ServeKit.StartDfc("serve", pipeline, "--once");
        (List<string> lines, Task _) = ServeKit.Watch(second, "never");
        await second.WaitForExitAsync().WaitAsync(Patience);

        Assert.True(second.ExitCode == 0, string.Join('\n', lines));
        Assert.Contains(lines, l => l.Contains("Resuming from", StringComparison.Ordinal));
        Assert.Equal([(shard, ShardState.Done, 2)], await ServeKit.LedgerAsync(pipeline));
        var entry = Assert.Single(ServeKit.Index(Out("killed", "embeddings")));
        long shardRows = await ServeKit.RowsAsync(shard);
        Assert.Equal(shardRows, entry.Rows);
        Assert.Equal(shardRows, await RowsAsync(Out("killed", "embeddings"), entry.Files));

        // The shard got its 16 steps once: the newest checkpoint is step 16, and none lies beyond it.
        string[] checkpoints = [.. Directory.GetDirectories(Out("killed", "checkpoints")).Select(Path.GetFileName)
            .Order(StringComparer.Ordinal)!];
        Assert.Equal("step-00000016", checkpoints[^1]);
    }

    [Fact]
    public async Task Sigterm_stops_the_service_with_a_checkpoint_and_exit_code_0_and_leaves_the_shard_unpublished()
    {
        string pipeline = ServeKit.WritePipeline(_work, "stopped",
            "watch: true, settle_seconds: 0, steps_per_shard: 100000");
        ServeKit.Drop(Path.Combine(_work, "in"), "coco-cc-00000.parquet");
        using Process dfc = ServeKit.StartDfc("serve", pipeline, "--grace", "60");
        (List<string> lines, Task stepped) = ServeKit.Watch(dfc, "step 3/100000");
        await stepped.WaitAsync(Patience);

        Assert.Equal(0, ServeKit.Kill(dfc.Id, "TERM"));
        await dfc.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(60));

        Assert.True(dfc.ExitCode == 0, string.Join('\n', lines));
        Assert.Single(Directory.GetDirectories(Out("stopped", "checkpoints")));
        Assert.Equal(ShardState.InProgress, Assert.Single(await ServeKit.LedgerAsync(pipeline)).State);
        Assert.Empty(ServeKit.Index(Out("stopped", "embeddings")));
    }

    private static async Task<long> RowsAsync(string exportDirectory, IEnumerable<string> files)
    {
        long rows = 0;
        foreach (string file in files)
        {
            rows += await ServeKit.RowsAsync(Path.Combine(exportDirectory, file));
        }
        return rows;
    }

    private static async Task UntilAsync(Func<bool> condition, List<string> lines)
    {
        var clock = Stopwatch.StartNew();
        while (!condition())
        {
            if (clock.Elapsed > Patience)
            {
                lock (lines)
                {
                    Assert.Fail("timed out; output:\n" + string.Join('\n', lines));
                }
            }
            await Task.Delay(100);
        }
    }
}
