using System.Collections.Concurrent;
using System.Diagnostics.Metrics;

namespace DataflowContrastive.Host.Serving;

/// <summary>
/// The service's metrics, by pipeline: samples worked through and their rate, shards waiting, shards by outcome, and
/// how long shards wait to be taken up. Rejected samples by reason come from the run's own counter
/// (<c>dfc.samples.rejected</c>) and the time the training stage waits for data from <c>dfc.stage.wait</c>.
/// </summary>
public static class ServeMetrics
{
    /// <summary>Name of the meter that holds these instruments.</summary>
    public const string MeterName = "DataflowContrastive.Serve";

    private static readonly Meter Meter = new(MeterName);
    private static readonly ConcurrentDictionary<string, double> Rates = new(StringComparer.Ordinal);
    private static readonly ConcurrentDictionary<string, long> Depths = new(StringComparer.Ordinal);

    private static readonly Counter<long> Samples = Meter.CreateCounter<long>("dfc.serve.samples", "{sample}",
        "Samples trained on or exported by the service.");

    private static readonly Counter<long> Shards = Meter.CreateCounter<long>("dfc.serve.shards", "{shard}",
        "Shards finished, by outcome: done, rejected, lost (the lease went to another worker), failed.");

    // Shards wait from seconds (a watched folder) to a day (a daily schedule).
    private static readonly Histogram<double> QueueWait = Meter.CreateHistogram("dfc.serve.queue_wait", "s",
        "Time from a shard's first sighting to its lease.", advice: new InstrumentAdvice<double>
        {
            HistogramBucketBoundaries = [1, 5, 15, 60, 300, 900, 3600, 4 * 3600, 24 * 3600],
        });

    static ServeMetrics()
    {
        Meter.CreateObservableGauge("dfc.serve.samples_per_second", () => Rates.Select(r =>
            new Measurement<double>(r.Value, Tag(r.Key))), "{sample}/s", "Samples per second of the latest shard.");
        Meter.CreateObservableGauge("dfc.serve.queue_depth", () => Depths.Select(d =>
            new Measurement<long>(d.Value, Tag(d.Key))), "{shard}", "Shards new or in progress in the ledger.");
    }

    /// <summary>Counts a shard's samples and sets the pipeline's rate from them.</summary>
    public static void ShardWorked(string pipeline, long samples, TimeSpan elapsed)
    {
        Samples.Add(samples, Tag(pipeline));
        Rates[pipeline] = elapsed > TimeSpan.Zero ? samples / elapsed.TotalSeconds : 0;
    }

    /// <summary>Counts a shard that ended with <paramref name="outcome"/>.</summary>
    public static void ShardEnded(string pipeline, string outcome) =>
        Shards.Add(1, Tag(pipeline), new KeyValuePair<string, object?>("outcome", outcome));

    /// <summary>Sets how many shards of the pipeline wait.</summary>
    public static void QueueDepth(string pipeline, long shards) => Depths[pipeline] = shards;

    /// <summary>Records how long a shard waited before it was taken up.</summary>
    public static void Waited(string pipeline, TimeSpan wait) => QueueWait.Record(wait.TotalSeconds, Tag(pipeline));

    private static KeyValuePair<string, object?> Tag(string pipeline) => new("pipeline", pipeline);
}
