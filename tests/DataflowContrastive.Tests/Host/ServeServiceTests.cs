using System.Diagnostics.Metrics;
using DataflowContrastive.Host.Ledger;
using DataflowContrastive.Host.Running;
using DataflowContrastive.Host.Serving;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace DataflowContrastive.Tests.Host;

/// <summary>The service in this process, with in-memory ledgers whose calls can be made to fail.</summary>
public sealed class ServeServiceTests : IDisposable
{
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
            throw new IOException("the ledger's disk is gone");
        };

        var options = new ServeOptions
        {
            Pipelines = [failing, working],
            Once = true,
            OpenLedger = (d, _, _) => Task.FromResult<IShardLedger>(ledgers[d.Name]),
        };
        (int exitCode, HealthReport health) = await RunAsync(options);

        // One pass and its two retries, each failing at its first ledger call; the other pipeline did its shard.
        Assert.Equal(3, failedCalls);
        Assert.Equal(1, exitCode);
        LedgerEntry done = Assert.Single(await ledgers["working"].ListAsync("working", default));
        Assert.Equal((shard, ShardState.Done), (done.Path, done.State));
        Assert.Single(ServeKit.Index(Path.Combine(_work, "working-out", "embeddings")));
        Assert.Equal(HealthStatus.Unhealthy, health.Status);
        Assert.Equal("failing: the ledger's disk is gone", health.Entries["pipelines"].Description);
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

    private static async Task<(int ExitCode, HealthReport Health)> RunAsync(ServeOptions options)
    {
        HostApplicationBuilder builder = Microsoft.Extensions.Hosting.Host.CreateApplicationBuilder();
        builder.Logging.ClearProviders();
        builder.Services.AddServe(options, TimeSpan.FromSeconds(30));
        using IHost host = builder.Build();
        RunOutcome outcome = host.Services.GetRequiredService<RunOutcome>();
        HealthCheckService health = host.Services.GetRequiredService<HealthCheckService>();
        await host.StartAsync();
        await host.WaitForShutdownAsync().WaitAsync(TimeSpan.FromSeconds(180));
        return (outcome.ExitCode, await health.CheckHealthAsync());
    }
}
