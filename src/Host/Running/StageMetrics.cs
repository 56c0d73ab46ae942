using System.Diagnostics.Metrics;

namespace DataflowContrastive.Host.Running;

/// <summary>How long each stage of a run waits for its input: <c>dfc.stage.wait</c>, tagged with the stage.</summary>
public static class StageMetrics
{
    private static readonly Meter Meter = new(RunRecorder.MeterName);

    private static readonly Histogram<double> Wait = Meter.CreateHistogram<double>("dfc.stage.wait", "s",
        "Time a stage waited for its input before each unit of work (the training stage: before each step).");

    /// <summary>Records that <paramref name="stage"/> waited <paramref name="waited"/>.</summary>
    public static void Waited(string stage, TimeSpan waited) =>
        Wait.Record(waited.TotalSeconds, new KeyValuePair<string, object?>("stage", stage));
}
