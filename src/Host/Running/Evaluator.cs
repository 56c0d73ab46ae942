using System.Diagnostics;
using DataflowContrastive.Augment;
using DataflowContrastive.Ingest;
using DataflowContrastive.Train;

namespace DataflowContrastive.Host.Running;

/// <summary>Embeds <paramref name="count"/> eval-transformed images (N·3·S·S floats); returns count·D floats.
/// </summary>
public delegate float[] ImageEmbedder(ReadOnlySpan<float> images, int count);

/// <summary>Embeds <paramref name="count"/> token rows (N·L ids); returns count·D floats, aligned with the images.
/// </summary>
public delegate float[] TextEmbedder(ReadOnlySpan<long> tokens, int count);

/// <summary>The text side of a model that has one: how captions become tokens, and how tokens are embedded.</summary>
public sealed record EvaluationTexts(CaptionTokenizer Tokenizer, TextEmbedder Embed);

/// <summary>How an <see cref="Evaluator"/> picks, decodes and embeds its samples.</summary>
/// <param name="Holdout">Share of keys held out of training (<see cref="HoldoutSplit"/>); the queries.</param>
/// <param name="MaxSamples">Cap on the queries and, separately, on the training rows taken as k-NN memory.</param>
/// <param name="KnnK">Neighbours that vote in the k-NN accuracy.</param>
/// <param name="BatchSize">Images embedded at once.</param>
/// <param name="Workers">Images decoded in parallel.</param>
/// <param name="CacheBytes">Decoded images kept between evaluations, in bytes.</param>
public sealed record EvaluationOptions(double Holdout, int MaxSamples, int KnnK, int BatchSize, int Workers,
    long CacheBytes);

/// <summary>
/// Measures a model on the held-out split: image-to-text and text-to-image recall@1, @5 and @10 among the held-out
/// samples (when the model embeds texts), weighted k-NN top-1 accuracy of the labelled held-out samples against
/// labelled training samples, and the per-dimension spread of the image embeddings (the collapse check). Only the
/// embedders are asked of the model, so an image-only model is measured on k-NN and spread alone.
/// </summary>
/// <remarks>
/// The samples are chosen once, on the first evaluation, in file order: the first <c>MaxSamples</c> held-out rows and
/// the first <c>MaxSamples</c> training rows with image bytes. They are decoded with the evaluation transform, which
/// draws no random numbers; decoded images are kept for later evaluations while they fit under the cache's size,
/// and the rest are decoded again each time. A row whose image cannot be decoded is left out (training records it).
/// Embeddings are L2-normalised here, whatever the embedder returns.
/// </remarks>
public sealed class Evaluator
{
    private readonly SampleOrder _order;
    private readonly ImageTransform _transform;
    private readonly EvaluationOptions _options;
    private readonly ImageEmbedder _embedImages;
    private readonly EvaluationTexts? _texts;
    private List<Row>? _queries;
    private List<Row>? _memory;
    private long _cachedBytes;

    /// <param name="order">An unshuffled order over every row (no held-out filter): the evaluation reads both splits.
    /// </param>
    /// <param name="transform">Its evaluation transform decodes the images.</param>
    /// <param name="options">Split, caps, batch and cache.</param>
    /// <param name="embedImages">Embeds a batch of images; called on the caller's thread only.</param>
    /// <param name="texts">The text side, or null for an image-only model (no recall).</param>
    public Evaluator(SampleOrder order, ImageTransform transform, EvaluationOptions options,
        ImageEmbedder embedImages, EvaluationTexts? texts = null)
    {
        ArgumentNullException.ThrowIfNull(order);
        ArgumentNullException.ThrowIfNull(transform);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(embedImages);
        ArgumentOutOfRangeException.ThrowIfLessThan(options.MaxSamples, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(options.KnnK, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(options.BatchSize, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(options.Workers, 1);
        _order = order;
        _transform = transform;
        _options = options;
        _embedImages = embedImages;
        _texts = texts;
    }

    /// <summary>
    /// Held-out shards whose rows are the queries (<c>eval.shards</c>); every row of <c>order</c> is then training
    /// data, the k-NN memory. Null to split <c>order</c> by <see cref="EvaluationOptions.Holdout"/>.
    /// </summary>
    public SampleOrder? HeldOut { get; init; }

    /// <summary>
    /// For a model whose loss sees another output than the evaluated embedding (an image-only model's projection
    /// head), that output: the collapse check is measured on it. Null to measure the evaluated embeddings.
    /// </summary>
    public ImageEmbedder? Projections { get; init; }

    /// <summary>
    /// Evaluates the model as it is now. <see cref="EvaluationRecord.Step"/> and
    /// <see cref="EvaluationRecord.SamplesTrained"/> are left at 0 for the caller to fill in.
    /// </summary>
    public async Task<EvaluationRecord> EvaluateAsync(CancellationToken cancellationToken)
    {
        var clock = Stopwatch.StartNew();
        if (_queries is null || _memory is null)
        {
            // Kept only once both splits are read and decoded, so an evaluation cut short starts over next time.
            (List<Row> queries, List<Row> memory) = await ReadAsync(cancellationToken);
            _cachedBytes = 0;
            queries = Decodable(queries, cancellationToken);
            memory = Decodable(memory, cancellationToken);
            (_queries, _memory) = (queries, memory);
        }

        (float[] queryImages, int dimension) = EmbedImages(_queries, _embedImages, cancellationToken);
        (float[] memoryImages, int memoryDimension) = EmbedImages(_memory, _embedImages, cancellationToken);
        dimension = Math.Max(dimension, memoryDimension);
        EvaluationRecord record = new EvaluationRecord
        {
            HeldOutSamples = _queries.Count,
            MemorySamples = _memory.Count,
            EmbeddingDimension = dimension,
        };
        record = WithRecall(record, queryImages, dimension);
        record = WithKnn(record, queryImages, memoryImages, dimension);
        record = Projections is { } project
            ? WithSpread(record, [.. _queries, .. _memory], project, cancellationToken)
            : WithSpread(record, [.. queryImages, .. memoryImages], dimension);
        return record with { Seconds = Math.Round(clock.Elapsed.TotalSeconds, 2) };
    }

    // One pass over the rows in file order, until both splits are full or the data ends.
    private async Task<(List<Row> Queries, List<Row> Memory)> ReadAsync(CancellationToken cancellationToken)
    {
        var queries = new List<Row>();
        var memory = new List<Row>();
        int max = _options.MaxSamples;
        if (HeldOut is { } heldOut)
        {
            await ReadIntoAsync(heldOut, _ => queries, () => queries.Count == max, cancellationToken);
            await ReadIntoAsync(_order, _ => memory, () => memory.Count == max, cancellationToken);
            return (queries, memory);
        }
        bool split = _options.Holdout > 0;
        await ReadIntoAsync(_order, key => HoldoutSplit.IsHeldOut(key, _options.Holdout) ? queries : memory,
            () => (!split || queries.Count == max) && memory.Count == max, cancellationToken);
        return (queries, memory);
    }

    // Adds each good row of the order to the list its key belongs in, while that list is under the cap, until full
    // says every list is full.
    private async Task ReadIntoAsync(SampleOrder order, Func<string, List<Row>> listOf, Func<bool> full,
        CancellationToken cancellationToken)
    {
        // Shard failures were recorded by training; here a failed shard just adds no rows.
        await foreach (OrderedSample sample in order.EpochAsync(0, _ => ValueTask.CompletedTask, cancellationToken))
        {
            RawSample raw = sample.Raw;
            if (raw.Problem is not null || raw.Image is not { Length: > 0 } image)
            {
                continue;
            }
            List<Row> rows = listOf(raw.Key);
            if (rows.Count < _options.MaxSamples)
            {
                rows.Add(new Row(image, raw.Label, Tokens(raw.Caption)));
            }
            if (full())
            {
                break;
            }
        }
    }

    private long[]? Tokens(string? caption)
    {
        if (_texts is null || string.IsNullOrWhiteSpace(caption))
        {
            return null;
        }
        var tokens = new long[_texts.Tokenizer.ContextLength];
        _texts.Tokenizer.Encode(caption, tokens);
        return tokens;
    }

    // Decodes every row once: rows that fail are dropped for good, and the pixels are kept while the cache has room.
    private List<Row> Decodable(List<Row> rows, CancellationToken cancellationToken)
    {
        var good = new bool[rows.Count];
        Parallel.For(0, rows.Count, ParallelOptions(cancellationToken), i =>
        {
            var pixels = new float[_transform.OutputLength];
            try
            {
                _transform.ApplyEval(rows[i].Image, pixels);
            }
            catch (ImageRejectedException)
            {
                return;
            }
            good[i] = true;
            if (Interlocked.Add(ref _cachedBytes, pixels.Length * sizeof(float)) <= _options.CacheBytes)
            {
                rows[i].Pixels = pixels;
            }
        });
        return [.. rows.Where((_, i) => good[i])];
    }

    // The image embeddings of the rows, L2-normalised, in batches; decoded again where the cache had no room.
    private (float[] Embeddings, int Dimension) EmbedImages(List<Row> rows, ImageEmbedder embed,
        CancellationToken cancellationToken)
    {
        int pixels = _transform.OutputLength;
        var embeddings = new List<float>();
        int dimension = 0;
        for (int start = 0; start < rows.Count; start += _options.BatchSize)
        {
            int count = Math.Min(_options.BatchSize, rows.Count - start);
            var batch = new float[count * pixels];
            Parallel.For(0, count, ParallelOptions(cancellationToken), i =>
            {
                Row row = rows[start + i];
                Span<float> destination = batch.AsSpan(i * pixels, pixels);
                if (row.Pixels is { } cached)
                {
                    cached.CopyTo(destination);
                }
                else
                {
                    _transform.ApplyEval(row.Image, destination);
                }
            });
            float[] embedded = embed(batch, count);
            dimension = embedded.Length / count;
            Debug.Assert(embedded.Length == count * dimension, "the embedder returns one row per image");
            EvaluationMetrics.Normalise(embedded, dimension);
            embeddings.AddRange(embedded);
        }
        return ([.. embeddings], dimension);
    }

    private EvaluationRecord WithRecall(EvaluationRecord record, float[] queryImages, int dimension)
    {
        int[] captioned = [.. Enumerable.Range(0, _queries!.Count).Where(i => _queries[i].Tokens is not null)];
        if (_texts is null || captioned.Length < 2)
        {
            return record;
        }
        int context = _texts.Tokenizer.ContextLength;
        float[] images = Gather(queryImages, captioned, dimension);
        var texts = new List<float>();
        for (int start = 0; start < captioned.Length; start += _options.BatchSize)
        {
            int count = Math.Min(_options.BatchSize, captioned.Length - start);
            var tokens = new long[count * context];
            for (int i = 0; i < count; i++)
            {
                _queries[captioned[start + i]].Tokens.CopyTo(tokens.AsSpan(i * context, context));
            }
            float[] embedded = _texts.Embed(tokens, count);
            EvaluationMetrics.Normalise(embedded, dimension);
            texts.AddRange(embedded);
        }
        float[] textRows = [.. texts];
        int n = captioned.Length;
        return record with
        {
            ImageToTextAt1 = RetrievalRecall.AtK(images, textRows, n, dimension, 1),
            ImageToTextAt5 = RetrievalRecall.AtK(images, textRows, n, dimension, 5),
            ImageToTextAt10 = RetrievalRecall.AtK(images, textRows, n, dimension, 10),
            TextToImageAt1 = RetrievalRecall.AtK(textRows, images, n, dimension, 1),
            TextToImageAt5 = RetrievalRecall.AtK(textRows, images, n, dimension, 5),
            TextToImageAt10 = RetrievalRecall.AtK(textRows, images, n, dimension, 10),
        };
    }

    private EvaluationRecord WithKnn(EvaluationRecord record, float[] queryImages, float[] memoryImages,
        int dimension)
    {
        int[] queries = [.. Enumerable.Range(0, _queries!.Count).Where(i => _queries[i].Label is not null)];
        int[] memory = [.. Enumerable.Range(0, _memory!.Count).Where(i => _memory[i].Label is not null)];
        if (queries.Length == 0 || memory.Length == 0)
        {
            return record;
        }
        return record with
        {
            KnnTop1 = EvaluationMetrics.KnnTop1(Gather(memoryImages, memory, dimension),
                [.. memory.Select(i => _memory[i].Label!)], Gather(queryImages, queries, dimension),
                [.. queries.Select(i => _queries[i].Label!)], dimension, _options.KnnK),
        };
    }

    private EvaluationRecord WithSpread(EvaluationRecord record, List<Row> rows, ImageEmbedder project,
        CancellationToken cancellationToken)
    {
        (float[] projections, int dimension) = EmbedImages(rows, project, cancellationToken);
        return WithSpread(record, projections, dimension);
    }

    private static EvaluationRecord WithSpread(EvaluationRecord record, float[] images, int dimension)
    {
        if (dimension == 0 || images.Length < 2 * dimension)
        {
            return record;
        }
        (double mean, double min) = EvaluationMetrics.DimensionSpread(images, dimension);
        return record with { EmbeddingStdMean = mean, EmbeddingStdMin = min, SpreadDimension = dimension };
    }

    private static float[] Gather(float[] rows, int[] indices, int dimension)
    {
        var gathered = new float[indices.Length * dimension];
        for (int i = 0; i < indices.Length; i++)
        {
            rows.AsSpan(indices[i] * dimension, dimension).CopyTo(gathered.AsSpan(i * dimension, dimension));
        }
        return gathered;
    }

    private ParallelOptions ParallelOptions(CancellationToken cancellationToken) => new()
    {
        MaxDegreeOfParallelism = _options.Workers,
        CancellationToken = cancellationToken,
    };

    private sealed class Row(byte[] image, string? label, long[]? tokens)
    {
        public byte[] Image { get; } = image;

        public string? Label { get; } = label;

        public long[]? Tokens { get; } = tokens;

        public float[]? Pixels { get; set; }
    }
}
