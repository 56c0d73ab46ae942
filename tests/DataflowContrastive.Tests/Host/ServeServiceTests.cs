using System.Diagnostics.Metrics;
using System.Text.Json;
using DataflowContrastive.Tests.Ingest;
using DataflowContrastive.Host.Ledger;
using DataflowContrastive.Host.Running;
using DataflowContrastive.Host.Serving;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Parquet;
using Parquet.Schema;

namespace DataflowContrastive.Tests.Host;

/// <summary>The service in this process, with in-memory ledgers whose calls can be made to fail.</summary>
public sealed class ServeServiceTests : IDisposable
{
    private static readonly string?[] NoImageCaptions = ["a cup", "a mug"];

    private readonly string _work = Directory.CreateTempSubdirectory("dfc-serve-service-").FullName;

    public void Dispose() => Directory.Delete(_work, recursive: true);

    [Fact]
    public async Task A_failing_pipeline_is_retried_and_does_not_stop_another()
    {
        string shard = ServeKit.Drop(Directory.CreateDirectory(Path.Combine(_work, "in")).FullName,
            "coco-cc-00000.parquet");
        ServedPipeline failing = ServedPipeline.Load(ServeKit.WritePipeline(_work, "failing",
            "retry_delay_seconds: 1, settle_seconds: 0, steps_per_shard: 2"));
        ServedPipeline working = ServedPipeline.Load(ServeKit.WritePipeline(_work, "working",
            "settle_seconds: 0, steps_per_shard: 2"));
        var ledgers = new Dictionary<string, InMemoryShardLedger>
        {
            ["failing"] = new(TimeProvider.System),
            ["working"] = new(TimeProvider.System),
        };
        int failedCalls = 0;
        ledgers["failing"].BeforeCall = _ =>
        {
            Interlocked.Increment(ref failedCalls);
            throw new IOException("the ledger's disk is gone", new TimeoutException("no answer in 15 s"));
        };

        var options = new ServeOptions
        {
            Pipelines = [failing, working],
            Once = true,
            OpenLedger = (d, _, _) => Task.FromResult<IShardLedger>(ledgers[d.Name]),
        };
        var log = new ServeLog();
        (int exitCode, HealthReport health) = await RunAsync(options, log);

        // One pass and its two retries, each failing at its first ledger call; the other pipeline did its shard.
        Assert.Equal(3, failedCalls);
        Assert.Equal(1, exitCode);
        LedgerEntry done = Assert.Single(await ledgers["working"].ListAsync("working", default));
        Assert.Equal((shard, ShardState.Done), (done.Path, done.State));
        Assert.Single(ServeKit.Index(Path.Combine(_work, "working-out", "embeddings")));
        Assert.Equal(HealthStatus.Unhealthy, health.Status);
        Assert.Equal("failing: the ledger's disk is gone", health.Entries["pipelines"].Description);

        // Each error line says what failed, inner causes included, without a stack trace; one Debug entry has it.
        var errors = log.Entries.Where(e => e.Level == LogLevel.Error && e.Text.StartsWith("Pipeline failing",
            StringComparison.Ordinal)).ToList();
        Assert.Equal(3, errors.Count);
        Assert.All(errors, e => Assert.Null(e.Exception));
        Assert.All(errors, e => Assert.EndsWith("the ledger's disk is gone <- no answer in 15 s", e.Text,
            StringComparison.Ordinal));
        Assert.IsType<IOException>(Assert.Single(log.Entries, e => e.Exception is not null).Exception);
        Assert.Contains(log.Entries, e => e.Text == "Pipeline working: 1 shard found, 1 new; 1 waiting");
        Assert.Contains(log.Entries, e => e.Text == "Service finished; 1 pipeline failed");
    }

    [Fact]
    public async Task A_truncated_shard_is_rejected_with_its_reason_and_the_next_is_done()
    {
        string folder = Directory.CreateDirectory(Path.Combine(_work, "in")).FullName;
        string broken = Path.Combine(folder, "a-broken.parquet");
        byte[] whole = await File.ReadAllBytesAsync(TestPaths.Repo("samples", "coco-cc", "coco-cc-00001.parquet"));
        await File.WriteAllBytesAsync(broken, whole[..4096]);
        File.SetLastWriteTimeUtc(broken, DateTime.UtcNow.AddMinutes(-1));
        string good = ServeKit.Drop(folder, "coco-cc-00000.parquet");
        ServedPipeline pipeline = ServedPipeline.Load(ServeKit.WritePipeline(_work, "mixed",
            "settle_seconds: 0, steps_per_shard: 2"));
        var ledger = new InMemoryShardLedger(TimeProvider.System);
        var outcomes = new List<string>();
        using var listener = new MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (instrument.Name == "dfc.serve.shards")
            {
                l.EnableMeasurementEvents(instrument);
            }
        };
        listener.SetMeasurementEventCallback<long>((_, _, tags, _) =>
        {
            Dictionary<string, object?> byName = tags.ToArray().ToDictionary(t => t.Key, t => t.Value);
            if (Equals(byName["pipeline"], "mixed"))
            {
                lock (outcomes)
                {
                    outcomes.Add((string)byName["outcome"]!);
                }
            }
        });
        listener.Start();

        (int exitCode, HealthReport health) = await RunAsync(new ServeOptions
        {
            Pipelines = [pipeline],
            Once = true,
            OpenLedger = (_, _, _) => Task.FromResult<IShardLedger>(ledger),
        });

        Assert.Equal(0, exitCode);
        Assert.Equal(HealthStatus.Healthy, health.Status);
        Assert.Equal(["rejected", "done"], outcomes);
        IReadOnlyList<LedgerEntry> entries = await ledger.ListAsync("mixed", default);
        Assert.Equal([(broken, ShardState.Rejected), (good, ShardState.Done)], entries.Select(e => (e.Path, e.State)));
        Assert.Contains("a-broken.parquet", entries[0].Reason, StringComparison.Ordinal);
        Assert.NotEmpty(Directory.GetFiles(Path.Combine(_work, "mixed-out", "rejects"), "*.parquet",
            SearchOption.AllDirectories));
        Assert.Equal([good], ServeKit.Index(Path.Combine(_work, "mixed-out", "embeddings")).Select(e => e.Source));
    }

    [Fact]
    public async Task A_shard_smaller_than_a_batch_is_exported_and_a_rejection_names_only_its_own_shard()
    {
        string folder = Directory.CreateDirectory(Path.Combine(_work, "in")).FullName;
        string broken = Path.Combine(folder, "a-broken.parquet");
        byte[] whole = await File.ReadAllBytesAsync(TestPaths.Repo("samples", "coco-cc", "coco-cc-00001.parquet"));
        await File.WriteAllBytesAsync(broken, whole[..4096]);
        string good = ServeKit.Drop(folder, "coco-cc-00000.parquet");
        byte[] jpeg = await File.ReadAllBytesAsync(Path.Combine(TestPaths.Fixtures, "Augment", "small_huffman.jpg"));
        string small = Path.Combine(folder, "e-small.parquet");
        await TestShards.WriteFlatAsync(small, [[(jpeg, "a red cup", null, "s0"), (jpeg, "a blue cup", null, "s1")]]);
        string columns = Path.Combine(folder, "d-columns.parquet");
        await WriteNoImageShardAsync(columns);
        foreach (string shard in new[] { broken, good, small, columns })
        {
            File.SetLastWriteTimeUtc(shard, DateTime.UtcNow.AddMinutes(-1));
        }
        ServedPipeline pipeline = ServedPipeline.Load(ServeKit.WritePipeline(_work, "sizes",
            "settle_seconds: 0, steps_per_shard: 2"));
        var ledger = new InMemoryShardLedger(TimeProvider.System);
        var log = new ServeLog();

        (int exitCode, _) = await RunOnceAsync(pipeline, ledger, log);

        Assert.Equal(0, exitCode);
        IReadOnlyList<LedgerEntry> entries = await ledger.ListAsync("sizes", default);
        Assert.Equal([(broken, ShardState.Rejected), (good, ShardState.Done), (columns, ShardState.Rejected),
            (small, ShardState.Done)], entries.Select(e => (e.Path, e.State)));
        string rejects = Path.Combine(_work, "sizes-out", "rejects");
        Assert.Equal($"{columns}: no row of the shard could be exported; its rejections by reason: shard-columns 1; " +
            $"the rows are in {rejects}", entries[2].Reason);

        // The small shard was embedded with the checkpoint the good shard's two steps (of 8 samples) made.
        string export = Path.Combine(_work, "sizes-out", "embeddings");
        var index = ServeKit.Index(export);
        long goodRows = await ServeKit.RowsAsync(good);
        Assert.Equal([(good, goodRows), (small, 2L)], index.Select(e => (e.Source, e.Rows)));
        // The rejected shard's unpublished export was removed with its rejection.
        Assert.Equal(index.Select(e => Path.Combine(export, e.Directory)).Order(StringComparer.Ordinal),
            Directory.GetDirectories(Path.Combine(export, "shards")).Order(StringComparer.Ordinal));
        string[] texts = [.. log.Entries.Select(e => e.Text)];
        Assert.Contains($"Pipeline sizes: shard {good} done: 16 samples trained, {goodRows} rows published",
            texts);
        Assert.Contains($"Pipeline sizes: shard {small} done: 0 samples trained, 2 rows published", texts);
        Assert.Contains($"Pipeline sizes: shard {small}: {small}: holds 2 rows, fewer than one batch of 8: " +
            "exported with the newest checkpoint, not trained on", texts);

        // summary.json is the last published shard's alone, and names the files where they now are.
        using JsonDocument summary = JsonDocument.Parse(
            await File.ReadAllBytesAsync(Path.Combine(_work, "sizes-out", "summary.json")));
        JsonElement root = summary.RootElement;
        Assert.Equal(1, root.GetProperty("shards").GetInt32());
        Assert.Equal(0, root.GetProperty("samples_trained").GetInt64());
        Assert.Empty(root.GetProperty("rejected_by_reason").EnumerateObject());
        string placed = Path.Combine(export, index[1].Directory);
        string[] files = [.. root.GetProperty("embedding_shards").EnumerateArray().Select(f => f.GetString()!)];
        Assert.NotEmpty(files);
        Assert.All(files, f => Assert.StartsWith(placed + Path.DirectorySeparatorChar, f, StringComparison.Ordinal));
        Assert.All(files, f => Assert.True(File.Exists(f), f));
        Assert.Equal(Path.Combine(placed, "manifest.json"), root.GetProperty("export_manifest").GetString());
    }

    [Fact]
    public async Task A_shard_whose_content_changes_at_its_path_replaces_its_entry_and_its_folder()
    {
        string folder = Directory.CreateDirectory(Path.Combine(_work, "in")).FullName;
        string shard = ServeKit.Drop(folder, "coco-cc-00000.parquet");
        File.SetLastWriteTimeUtc(shard, DateTime.UtcNow.AddMinutes(-2));
        ServedPipeline pipeline = ServedPipeline.Load(ServeKit.WritePipeline(_work, "changing",
            "settle_seconds: 0, steps_per_shard: 2"));
        var ledger = new InMemoryShardLedger(TimeProvider.System);
        string export = Path.Combine(_work, "changing-out", "embeddings");

        Assert.Equal(0, (await RunOnceAsync(pipeline, ledger, new ServeLog())).ExitCode);
        string first = Assert.Single(ServeKit.Index(export)).Directory;
        File.Copy(TestPaths.Repo("samples", "coco-cc", "coco-cc-00001.parquet"), shard, overwrite: true);
        File.SetLastWriteTimeUtc(shard, DateTime.UtcNow.AddMinutes(-1));
        Assert.Equal(0, (await RunOnceAsync(pipeline, ledger, new ServeLog())).ExitCode);

        var index = ServeKit.Index(export);
        string second = Assert.Single(index).Directory;
        Assert.NotEqual(first, second);
        Assert.Equal([Path.Combine(export, second)], Directory.GetDirectories(Path.Combine(export, "shards")));
    }

    [Fact]
    public async Task A_file_still_being_written_is_left_for_later_and_logged()
    {
        string folder = Directory.CreateDirectory(Path.Combine(_work, "in")).FullName;
        string broken = Path.Combine(folder, "a-broken.parquet");
        byte[] whole = await File.ReadAllBytesAsync(TestPaths.Repo("samples", "coco-cc", "coco-cc-00001.parquet"));
        await File.WriteAllBytesAsync(broken, whole[..4096]);
        File.SetLastWriteTimeUtc(broken, DateTime.UtcNow.AddHours(-2));
        await File.WriteAllBytesAsync(Path.Combine(folder, "b-copying.parquet"), whole);
        ServedPipeline pipeline = ServedPipeline.Load(ServeKit.WritePipeline(_work, "settling",
            "settle_seconds: 3600"));
        var ledger = new InMemoryShardLedger(TimeProvider.System);
        var log = new ServeLog();

        (int exitCode, _) = await RunOnceAsync(pipeline, ledger, log);

        Assert.Equal(0, exitCode);
        Assert.Equal([broken], (await ledger.ListAsync("settling", default)).Select(e => e.Path));
        string[] texts = [.. log.Entries.Select(e => e.Text)];
        Assert.Contains("Pipeline settling: 1 file still being written, left for a later pass", texts);
        Assert.Contains("Pipeline settling: 1 shard found, 1 new; 1 waiting", texts);
    }

    [Fact]
    public async Task A_shard_without_rows_is_done_with_nothing_to_do_not_rejected()
    {
        string folder = Directory.CreateDirectory(Path.Combine(_work, "in")).FullName;
        string empty = Path.Combine(folder, "empty.parquet");
        await TestShards.WriteFlatAsync(empty, []);
        File.SetLastWriteTimeUtc(empty, DateTime.UtcNow.AddMinutes(-1));
        ServedPipeline pipeline = ServedPipeline.Load(ServeKit.WritePipeline(_work, "zero", "settle_seconds: 0"));
        var ledger = new InMemoryShardLedger(TimeProvider.System);
        var log = new ServeLog();

        (int exitCode, _) = await RunOnceAsync(pipeline, ledger, log);

        Assert.Equal(0, exitCode);
        LedgerEntry entry = Assert.Single(await ledger.ListAsync("zero", default));
        Assert.Equal((empty, ShardState.Done), (entry.Path, entry.State));
        Assert.Contains(log.Entries, e => e.Text.Contains($"{empty}: holds no rows", StringComparison.Ordinal));
    }

    // Two rows of a caption column and nothing else: no image column a run could use.
    private static async Task WriteNoImageShardAsync(string path)
    {
        var caption = new DataField("caption", typeof(string), isNullable: true);
        await using FileStream stream = File.Create(path);
        await using ParquetWriter writer = await ParquetWriter.CreateAsync(new ParquetSchema(caption), stream, null,
            false, default);
        using ParquetRowGroupWriter group = writer.CreateRowGroup();
        await group.WriteAsync(caption, NoImageCaptions, null);
    }

    // Serves one pipeline once, over a ledger of the test's.
    private static Task<(int ExitCode, HealthReport Health)> RunOnceAsync(ServedPipeline pipeline,
        IShardLedger ledger, ServeLog log) =>
        RunAsync(new ServeOptions
        {
            Pipelines = [pipeline],
            Once = true,
            OpenLedger = (_, _, _) => Task.FromResult(ledger),
        }, log);

    private static async Task<(int ExitCode, HealthReport Health)> RunAsync(ServeOptions options,
        ServeLog? log = null)
    {
        HostApplicationBuilder builder = Microsoft.Extensions.Hosting.Host.CreateApplicationBuilder();
        builder.Logging.ClearProviders();
        if (log is not null)
        {
            builder.Logging.AddProvider(log);
            builder.Logging.SetMinimumLevel(LogLevel.Debug);
        }
        builder.Services.AddServe(options, TimeSpan.FromSeconds(30));
        using IHost host = builder.Build();
        RunOutcome outcome = host.Services.GetRequiredService<RunOutcome>();
        HealthCheckService health = host.Services.GetRequiredService<HealthCheckService>();
        await host.StartAsync();
        await host.WaitForShutdownAsync().WaitAsync(TimeSpan.FromSeconds(180));
        return (outcome.ExitCode, await health.CheckHealthAsync());
    }
}
