using System.Diagnostics.Metrics;

namespace DataflowContrastive.Host.Running;

/// <summary>How long each stage of a run waits for its input: <c>dfc.stage.wait</c>, tagged with the stage.</summary>
public static class StageMetrics
{
    private static readonly Meter Meter = new(RunRecorder.MeterName);

    // Waits range from microseconds (data ready) to seconds (a starved stage).
    private static readonly Histogram<double> Wait = Meter.CreateHistogram("dfc.stage.wait", "s",
        "Time a stage waited for its input before each unit of work (the training stage: before each step).",
        advice: new InstrumentAdvice<double>
        {
            HistogramBucketBoundaries = [0.0001, 0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 10],
        });

    /// <summary>Records that <paramref name="stage"/> waited <paramref name="waited"/>.</summary>
    public static void Waited(string stage, TimeSpan waited) =>
        Wait.Record(waited.TotalSeconds, new KeyValuePair<string, object?>("stage", stage));
}
