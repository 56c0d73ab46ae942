using System.Globalization;
using System.Text;
using System.Text.Json;

namespace DataflowContrastive.Host.Inspecting;

/// <summary>
/// The spread of a measure over the good samples: smallest, median, 95th percentile and largest. Percentiles are
/// nearest-rank: the value at position ceil(p * n) of the sorted values (1-based), so the median of an even count
/// is the lower of the two middle values. Every field is 0 when there is no sample.
/// </summary>
public sealed record Distribution(int Min, int Median, int P95, int Max)
{
    /// <summary>The distribution of <paramref name="values"/>; their order does not matter.</summary>
    public static Distribution Of(IEnumerable<int> values)
    {
        ArgumentNullException.ThrowIfNull(values);
        int[] sorted = [.. values.Order()];
        return sorted.Length == 0
            ? new Distribution(0, 0, 0, 0)
            : new Distribution(sorted[0], NearestRank(sorted, 0.5), NearestRank(sorted, 0.95), sorted[^1]);
    }

    private static int NearestRank(int[] sorted, double p) =>
        sorted[Math.Max(1, (int)Math.Ceiling(p * sorted.Length)) - 1];

    /// <inheritdoc />
    public override string ToString() => string.Create(CultureInfo.InvariantCulture,
        $"min {Min}, median {Median}, p95 {P95}, max {Max}");
}

/// <summary>
/// What <c>dfc inspect</c> found. Every row read is either a good sample or a rejected row:
/// <see cref="Good"/> + <see cref="RowsRejected"/> = <see cref="Rows"/>. A shard that failed is counted in
/// <see cref="ShardsRejected"/> and under its reason; the rows it gave before failing are in <see cref="Rows"/>.
/// </summary>
public sealed record InspectionReport
{
    /// <summary>Captions longer than this many tokens count as this many in <see cref="CaptionTokens"/>.</summary>
    public const int TokenCountCeiling = 4096;

    private static readonly JsonSerializerOptions JsonOptions = new()
    {
        WriteIndented = true,
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
    };

    /// <summary>Shards found.</summary>
    public required int Shards { get; init; }

    /// <summary>Shards that could not be read, or read to their end.</summary>
    public required int ShardsRejected { get; init; }

    /// <summary>Rows read.</summary>
    public required long Rows { get; init; }

    /// <summary>Rows that became samples a run would train on.</summary>
    public required long Good { get; init; }

    /// <summary>Rows rejected one by one.</summary>
    public required long RowsRejected { get; init; }

    /// <summary>Rejections of rows and shards by reason code, as in a run's summary.</summary>
    public required IReadOnlyDictionary<string, long> RejectedByReason { get; init; }

    /// <summary>Good samples kept with a note (a caption cut to fit, invalid UTF-8 replaced), by reason code.</summary>
    public required IReadOnlyDictionary<string, long> Notes { get; init; }

    /// <summary>Upright image width of the good samples, in pixels.</summary>
    public required Distribution ImageWidth { get; init; }

    /// <summary>Upright image height of the good samples, in pixels.</summary>
    public required Distribution ImageHeight { get; init; }

    /// <summary>Caption length of the good samples, in UTF-16 characters.</summary>
    public required Distribution CaptionChars { get; init; }

    /// <summary>Caption length of the good samples, in byte-pair tokens before any cut (at most
    /// <see cref="TokenCountCeiling"/>).</summary>
    public required Distribution CaptionTokens { get; init; }

    /// <summary>Distinct labels among the good samples (0 when the shards have none).</summary>
    public required int Labels { get; init; }

    /// <summary>Class ids those labels map to (see <see cref="Ingest.LabelMap"/>).</summary>
    public required int LabelClasses { get; init; }

    /// <summary>The rejects file written.</summary>
    public required string Rejects { get; init; }

    /// <summary>Shards that hold no rows: not bad data, so not rejected, but worth knowing about.</summary>
    public IReadOnlyList<string> EmptyShards { get; init; } = [];

    /// <summary>The report as indented JSON with snake_case names.</summary>
    public string ToJson() => JsonSerializer.Serialize(this, JsonOptions);

    /// <summary>The report for people, one fact a line.</summary>
    public string ToText()
    {
        var text = new StringBuilder();
        Line(text, $"shards: {Shards} found, {ShardsRejected} rejected");
        Line(text, $"rows: {Rows} read, {Good} good, {RowsRejected} rejected");
        Line(text, $"rejections by reason:{(RejectedByReason.Count == 0 ? " none" : "")}");
        foreach ((string reason, long count) in RejectedByReason)
        {
            Line(text, $"  {reason,-28} {count,10}");
        }
        Line(text, $"notes on good samples:{(Notes.Count == 0 ? " none" : "")}");
        foreach ((string note, long count) in Notes)
        {
            Line(text, $"  {note,-28} {count,10}");
        }
        foreach (string shard in EmptyShards)
        {
            Line(text, $"shard {shard} holds no rows");
        }
        if (Good == 0)
        {
            Line(text, $"image sizes and caption lengths: no samples");
        }
        else
        {
            Line(text, $"image width (px):      {ImageWidth}");
            Line(text, $"image height (px):     {ImageHeight}");
            Line(text, $"caption length (chars): {CaptionChars}");
            Line(text, $"caption length (tokens, counted up to {TokenCountCeiling}): {CaptionTokens}");
        }
        if (Labels > 0)
        {
            Line(text, $"labels: {Labels} distinct, {LabelClasses} class ids");
        }
        // The log warns about each reason at a limited rate; the file has them all.
        string rejects = RejectedByReason.Count == 0 ? "rejects written to" : "every rejection is listed in";
        Line(text, $"{rejects} {Rejects}");
        return text.ToString();
    }

    private static void Line(StringBuilder text, FormattableString line) =>
        text.AppendLine(line.ToString(CultureInfo.InvariantCulture));
}
