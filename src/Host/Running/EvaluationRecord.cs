using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace DataflowContrastive.Host.Running;

/// <summary>
/// The figures of one evaluation, as one line of <c>metrics.jsonl</c> (snake_case names; a figure that could not be
/// measured, such as recall without captions or k-NN without labels, is left out).
/// </summary>
public sealed record EvaluationRecord
{
    internal static readonly JsonSerializerOptions JsonOptions = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    };

    /// <summary>The optimizer step the model had taken when it was evaluated.</summary>
    public int Step { get; init; }

    /// <summary>Samples trained on up to that step.</summary>
    public long SamplesTrained { get; init; }

    /// <summary>Held-out samples evaluated (queries), at most <c>eval.max_samples</c>.</summary>
    public int HeldOutSamples { get; init; }

    /// <summary>Training samples embedded as the k-NN memory, at most <c>eval.max_samples</c>.</summary>
    public int MemorySamples { get; init; }

    /// <summary>Image-to-text recall@1 among the captioned held-out samples; recall@5 and @10 follow, then the
    /// text-to-image direction. Ties count against the query (see <see cref="RetrievalRecall"/>).</summary>
    [JsonPropertyName("image_to_text_at_1")]
    public double? ImageToTextAt1 { get; init; }

    [JsonPropertyName("image_to_text_at_5")]
    public double? ImageToTextAt5 { get; init; }

    [JsonPropertyName("image_to_text_at_10")]
    public double? ImageToTextAt10 { get; init; }

    [JsonPropertyName("text_to_image_at_1")]
    public double? TextToImageAt1 { get; init; }

    [JsonPropertyName("text_to_image_at_5")]
    public double? TextToImageAt5 { get; init; }

    [JsonPropertyName("text_to_image_at_10")]
    public double? TextToImageAt10 { get; init; }

    /// <summary>Weighted k-NN top-1 accuracy of the labelled held-out samples against the labelled memory.</summary>
    public double? KnnTop1 { get; init; }

    /// <summary>The mean over dimensions of the per-dimension standard deviation of the image embeddings.</summary>
    public double? EmbeddingStdMean { get; init; }

    /// <summary>The smallest per-dimension standard deviation of the image embeddings.</summary>
    public double? EmbeddingStdMin { get; init; }

    /// <summary>Width of the embeddings; 1/sqrt of it is what the standard deviation is near when not collapsed.
    /// </summary>
    public int EmbeddingDimension { get; init; }

    /// <summary>
    /// Width of the vectors the standard deviations were measured on: the embeddings, or an image-only model's
    /// projections. 1/sqrt of it is what the standard deviation is near when not collapsed.
    /// </summary>
    public int SpreadDimension { get; init; }

    /// <summary>Wall-clock seconds the evaluation took.</summary>
    public double Seconds { get; init; }

    /// <summary>The record as one line of JSON.</summary>
    public string ToJson() => JsonSerializer.Serialize(this, JsonOptions);

    /// <summary>Reads a record written by <see cref="ToJson"/>.</summary>
    /// <exception cref="JsonException">The text is not such a record.</exception>
    public static EvaluationRecord FromJson(string json) =>
        JsonSerializer.Deserialize<EvaluationRecord>(json, JsonOptions)
        ?? throw new JsonException("the metrics record is empty");

    /// <summary>The figures for a log line.</summary>
    public override string ToString()
    {
        var text = new StringBuilder();
        text.Append(CultureInfo.InvariantCulture, $"{HeldOutSamples} held out, {MemorySamples} in memory");
        if (ImageToTextAt1 is not null)
        {
            text.Append(CultureInfo.InvariantCulture,
                $"; image-to-text R@1/5/10 {ImageToTextAt1:P1} {ImageToTextAt5:P1} {ImageToTextAt10:P1}");
            text.Append(CultureInfo.InvariantCulture,
                $"; text-to-image R@1/5/10 {TextToImageAt1:P1} {TextToImageAt5:P1} {TextToImageAt10:P1}");
        }
        if (KnnTop1 is not null)
        {
            text.Append(CultureInfo.InvariantCulture, $"; k-NN top-1 {KnnTop1:P1}");
        }
        if (EmbeddingStdMean is not null)
        {
            text.Append(CultureInfo.InvariantCulture,
                $"; embedding std mean {EmbeddingStdMean:F4} min {EmbeddingStdMin:F4} (1/sqrt(d) = {
                    1 / Math.Sqrt(Math.Max(SpreadDimension, 1)):F4})");
        }
        return text.ToString();
    }
}
