using System.Text.Json;
using System.Text.Json.Serialization;
using DataflowContrastive.Host.Export;

namespace DataflowContrastive.Host.Running;

/// <summary>Image-to-text and text-to-image recall over the exported samples.</summary>
/// <remarks>The JSON names are those of the evaluation records (<c>image_to_text_at_1</c>, ...).</remarks>
public sealed record RecallSummary(
    int Samples,
    [property: JsonPropertyName("image_to_text_at_1")] double ImageToTextAt1,
    [property: JsonPropertyName("image_to_text_at_5")] double ImageToTextAt5,
    [property: JsonPropertyName("text_to_image_at_1")] double TextToImageAt1,
    [property: JsonPropertyName("text_to_image_at_5")] double TextToImageAt5)
{
    public override string ToString() => FormattableString.Invariant(
        $"over {Samples} samples: image-to-text @1 {ImageToTextAt1:P1} @5 {ImageToTextAt5:P1}, text-to-image @1 {
            TextToImageAt1:P1} @5 {TextToImageAt5:P1}");
}

/// <summary>What a run did, accounted for; written to <c>summary.json</c> in the output folder and to the log.
/// </summary>
public sealed record RunSummary
{
    public required string Pipeline { get; init; }

    public required int Shards { get; init; }

    public required int Steps { get; init; }

    public required long SamplesTrained { get; init; }

    public required bool Interrupted { get; init; }

    public required IReadOnlyDictionary<string, long> RejectedByReason { get; init; }

    public required IReadOnlyDictionary<string, long> Notes { get; init; }

    public string? Checkpoint { get; init; }

    public long ExportedRows { get; init; }

    public IReadOnlyList<string> EmbeddingShards { get; init; } = [];

    public RecallSummary? Recall { get; init; }

    /// <summary>Samples exported per second of the export's wall-clock time; null when nothing was exported.</summary>
    public double? ExportImagesPerSecond { get; init; }

    /// <summary>The export's <c>manifest.json</c>, listing every finished embedding shard.</summary>
    public string? ExportManifest { get; init; }

    /// <summary>The evaluation of the last step (see <see cref="MetricsLog"/>); null when a stop came first.
    /// </summary>
    public EvaluationRecord? Evaluation { get; init; }

    public double Seconds { get; init; }

    private static readonly JsonSerializerOptions JsonOptions = new()
    {
        WriteIndented = true,
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    };

    public long TotalRejected => RejectedByReason.Values.Sum();

    public string ToJson() => JsonSerializer.Serialize(this, JsonOptions);

    public override string ToString() => ToJson();

    /// <summary>Writes the summary beside the run's other outputs, replacing any earlier one in one rename.</summary>
    public async Task WriteAsync(string path, CancellationToken cancellationToken)
    {
        // A temporary name of its own: workers sharing an output folder may write their summaries at once.
        string temporary = AtomicFile.TemporaryName(path);
        await File.WriteAllTextAsync(temporary, ToJson(), cancellationToken);
        File.Move(temporary, path, overwrite: true);
    }
}
