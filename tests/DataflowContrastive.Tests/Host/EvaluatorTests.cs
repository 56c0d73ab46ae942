using DataflowContrastive.Augment;
using DataflowContrastive.Host.Running;
using DataflowContrastive.Ingest;
using DataflowContrastive.Tests.Ingest;
using SkiaSharp;

namespace DataflowContrastive.Tests.Host;

/// <summary>
/// The evaluator on a labelled shard of solid red, green and blue squares, with image-only embedders that need no
/// model: the mean of each colour channel separates the classes perfectly, and a constant embedder is collapsed.
/// </summary>
public sealed class EvaluatorTests : IDisposable
{
    private const int PerClass = 20;
    private const double Holdout = 0.3;
    private static readonly SKColor[] Colours = [SKColors.Red, SKColors.Lime, SKColors.Blue];

    private readonly string _folder = TestShards.NewFolder();

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    [Fact]
    public async Task An_image_only_model_gets_knn_and_spread_but_no_recall()
    {
        Evaluator evaluator = await NewEvaluatorAsync(ChannelMeans, cacheBytes: 1 << 20);

        EvaluationRecord record = await evaluator.EvaluateAsync(default);

        int heldOut = Keys().Count(k => HoldoutSplit.IsHeldOut(k, Holdout));
        Assert.Equal(heldOut, record.HeldOutSamples);
        Assert.Equal((3 * PerClass) - heldOut, record.MemorySamples);
        Assert.Equal(1.0, record.KnnTop1);
        Assert.Null(record.ImageToTextAt1);
        Assert.Null(record.TextToImageAt10);
        Assert.Equal(3, record.EmbeddingDimension);
        Assert.InRange(record.EmbeddingStdMean!.Value, 0.1, 1);
    }

    [Fact]
    public async Task Cached_and_freshly_decoded_images_give_the_same_figures_on_every_evaluation()
    {
        Evaluator cached = await NewEvaluatorAsync(ChannelMeans, cacheBytes: 1 << 20);
        Evaluator uncached = await NewEvaluatorAsync(ChannelMeans, cacheBytes: 0);

        EvaluationRecord first = await cached.EvaluateAsync(default) with { Seconds = 0 };
        EvaluationRecord second = await cached.EvaluateAsync(default) with { Seconds = 0 };
        EvaluationRecord fresh = await uncached.EvaluateAsync(default) with { Seconds = 0 };

        Assert.Equal(first, second);
        Assert.Equal(first, fresh);
    }

    [Fact]
    public async Task Collapsed_embeddings_have_zero_spread_and_are_warned_about()
    {
        Evaluator evaluator = await NewEvaluatorAsync((_, count) => [.. Enumerable.Repeat(1f, count * 4)], 0);
        var logger = new CapturingLogger();
        MetricsLog log = await MetricsLog.OpenAsync(Path.Combine(_folder, "out"), 0, default);
        var schedule = new EvaluationSchedule(evaluator, log, every: 0, logger);

        EvaluationRecord? record = await schedule.AtEndAsync(7, 70, default);

        Assert.Equal(0, record!.EmbeddingStdMean!.Value, 12);
        Assert.Equal(0, record.EmbeddingStdMin!.Value, 12);
        Assert.Equal(7, record.Step);
        Assert.Contains(logger.Warnings, w => w.Contains("collapsed", StringComparison.Ordinal));
    }

    [Fact]
    public async Task An_evaluation_cut_short_by_a_stop_writes_no_record_and_the_next_one_starts_over()
    {
        Evaluator evaluator = await NewEvaluatorAsync(ChannelMeans, cacheBytes: 1 << 20);
        MetricsLog log = await MetricsLog.OpenAsync(Path.Combine(_folder, "out"), 0, default);
        var schedule = new EvaluationSchedule(evaluator, log, every: 2, new CapturingLogger());
        using var stopped = new CancellationTokenSource();
        await stopped.CancelAsync();

        await schedule.AfterStepAsync(2, 20, stopped.Token);
        await schedule.AfterStepAsync(3, 30, default);
        EvaluationRecord? last = await schedule.AtEndAsync(4, 40, default);

        Assert.Equal([4], log.Records.Select(r => r.Step));
        Assert.Equal(1.0, last!.KnnTop1);
    }

    [Fact]
    public async Task The_collapse_check_measures_the_projections_when_the_model_has_them()
    {
        Evaluator plain = await NewEvaluatorAsync(ChannelMeans, cacheBytes: 1 << 20);
        Evaluator projected = new(Order(Path.Combine(_folder, "squares.parquet")), Transform,
            new EvaluationOptions(Holdout, 1000, 5, 7, 2, 1 << 20), ChannelMeans)
        {
            Projections = (_, count) => [.. Enumerable.Repeat(1f, count * 4)],
        };

        EvaluationRecord spread = await plain.EvaluateAsync(default);
        EvaluationRecord collapsed = await projected.EvaluateAsync(default);

        Assert.Equal(1.0, collapsed.KnnTop1);
        Assert.InRange(spread.EmbeddingStdMean!.Value, 0.1, 1);
        Assert.Equal(0, collapsed.EmbeddingStdMean!.Value, 12);
    }

    [Fact]
    public async Task Held_out_shards_are_the_queries_and_every_training_row_is_memory()
    {
        // 12 squares of each colour, with other keys, in a shard of their own; the training shard keeps all 60 rows.
        string heldOutShard = Path.Combine(_folder, "held-out.parquet");
        (byte[]?, string?, int?, string)[] rows = [.. Enumerable.Range(0, 36).Select(i =>
            ((byte[]?)Square(Colours[i % 3]), (string?)"a square", (int?)(i % 3), $"held-out-{i:D3}"))];
        await TestShards.WriteFlatAsync(heldOutShard, [rows]);
        Evaluator split = await NewEvaluatorAsync(ChannelMeans, cacheBytes: 1 << 20);
        Evaluator evaluator = new(Order(Path.Combine(_folder, "squares.parquet")), Transform,
            new EvaluationOptions(0, 1000, 5, 7, 2, 1 << 20), ChannelMeans)
        {
            HeldOut = Order(heldOutShard),
        };

        EvaluationRecord record = await evaluator.EvaluateAsync(default);

        Assert.Null(split.HeldOut);
        Assert.Equal(36, record.HeldOutSamples);
        Assert.Equal(3 * PerClass, record.MemorySamples);
        Assert.Equal(1.0, record.KnnTop1);
    }

    private static IEnumerable<string> Keys() =>
        Enumerable.Range(0, 3 * PerClass).Select(i => $"square-{i:D3}");

    // 3 channel means per image: solid colours give three distinct points, one per class.
    private static float[] ChannelMeans(ReadOnlySpan<float> images, int count)
    {
        int plane = images.Length / count / 3;
        var means = new float[count * 3];
        for (int i = 0; i < count * 3; i++)
        {
            float sum = 0;
            foreach (float x in images.Slice(i * plane, plane))
            {
                sum += x;
            }
            means[i] = sum / plane;
        }
        return means;
    }

    private async Task<Evaluator> NewEvaluatorAsync(ImageEmbedder embed, long cacheBytes)
    {
        string shard = Path.Combine(_folder, "squares.parquet");
        if (!File.Exists(shard))
        {
            (byte[]?, string?, int?, string)[] rows = [.. Keys().Select((key, i) =>
                ((byte[]?)Square(Colours[i % 3]), (string?)"a square", (int?)(i % 3), key))];
            await TestShards.WriteFlatAsync(shard, [rows[..25], rows[25..]]);
        }
        return new Evaluator(Order(shard), Transform, new EvaluationOptions(Holdout, 1000, 5, 7, 2, cacheBytes), embed);
    }

    private static ImageTransform Transform =>
        new(new AugmentOptions { ImageSize = 8, Recipe = "eval" }, new DecodeOptions());

    private static SampleOrder Order(string shard) =>
        new([shard], new ShardReader(new IngestOptions()).ReadAsync, 1, 1, shuffle: false);

    private static byte[] Square(SKColor colour)
    {
        using var bitmap = new SKBitmap(16, 16);
        bitmap.Erase(colour);
        using SKData png = bitmap.Encode(SKEncodedImageFormat.Png, 100);
        return png.ToArray();
    }
}
