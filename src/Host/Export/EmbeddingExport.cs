using System.Collections.Concurrent;
using System.Diagnostics;
using System.Threading.Tasks.Dataflow;
using DataflowContrastive.Host.Pipelines;
using DataflowContrastive.Host.Running;
using DataflowContrastive.Ingest;
using DataflowContrastive.Train;

namespace DataflowContrastive.Host.Export;

/// <summary>What an export wrote, and the recall measured over its first samples.</summary>
/// <param name="Rows">Rows written, one per good input sample.</param>
/// <param name="Shards">The files written, in order, as full paths.</param>
/// <param name="Recall">Recall@k over the first samples, or null when fewer than two or not both embeddings.</param>
public sealed record ExportResult(long Rows, IReadOnlyList<string> Shards, RecallSummary? Recall)
{
    /// <summary>The export's <c>manifest.json</c>.</summary>
    public string Manifest { get; init; } = "";

    /// <summary>Wall-clock time of the export, from the first row read to the manifest marked complete.</summary>
    public TimeSpan Elapsed { get; init; }

    /// <summary>Time spent in the model.</summary>
    public TimeSpan Embedding { get; init; }

    /// <summary>Time spent writing files.</summary>
    public TimeSpan Writing { get; init; }

    /// <summary>
    /// Rows embedded by this process: fewer than <see cref="ExportResult.Rows"/> when it resumed an export that an
    /// earlier process had begun.
    /// </summary>
    public long RowsEmbedded { get; init; }

    /// <summary>Samples embedded per second of <see cref="Elapsed"/>.</summary>
    public double ImagesPerSecond => Elapsed > TimeSpan.Zero ? RowsEmbedded / Elapsed.TotalSeconds : 0;
}

/// <summary>
/// Embeds every sample of the shards once, with the evaluation transform and in file order, and writes the
/// embeddings in the layout that <c>export.layout</c> names, with a manifest. Both <c>dfc run</c>'s final export and
/// an export pipeline (<c>kind: export</c>) come here. Recall@k is measured over the first samples exported (at most
/// <c>export.recall_samples</c>, since it compares every pair) when both embeddings are written.
/// </summary>
/// <remarks>
/// Stages: read in order -> decode with the evaluation transform (parallel, order kept) -> batch -> embed (one block
/// owns the model) -> write (one block owns the files). Writing runs beside embedding, so the export is bounded by
/// decoding and the model, not by the disk. A text-only export still decodes each image, since a sample is exported
/// only when both its image and its caption are good.
/// </remarks>
public sealed class EmbeddingExport
{
    /// <summary>The weights' file name in the export directory, with <c>export.save_safetensors</c>.</summary>
    public const string SafetensorsFile = "model.safetensors";

    private readonly PipelineDefinition _definition;
    private readonly ContrastiveTrainer _trainer;
    private readonly SamplePreparer _preparer;
    private readonly RunRecorder _recorder;
    private readonly ExportedModel? _model;

    /// <param name="definition">The pipeline; its <c>export</c> keys say what is written where.</param>
    /// <param name="trainer">Holds the model that embeds.</param>
    /// <param name="preparer">Decodes and tokenises samples.</param>
    /// <param name="recorder">Counts and records rejected samples.</param>
    /// <param name="model">The model's identity; by default the trainer's step and the weights' fingerprint.</param>
    public EmbeddingExport(PipelineDefinition definition, ContrastiveTrainer trainer, SamplePreparer preparer,
        RunRecorder recorder, ExportedModel? model = null)
    {
        ArgumentNullException.ThrowIfNull(definition);
        ArgumentNullException.ThrowIfNull(trainer);
        ArgumentNullException.ThrowIfNull(preparer);
        ArgumentNullException.ThrowIfNull(recorder);
        _definition = definition;
        _trainer = trainer;
        _preparer = preparer;
        _recorder = recorder;
        _model = model;
    }

    private ExportEmbeddings Embeddings => EmbeddingsOf(_definition, _trainer);

    /// <summary>
    /// Refuses, before a run trains, an export folder that already holds another layout or other embeddings than
    /// this run's export would write there.
    /// </summary>
    /// <exception cref="PipelineRunException">The folder holds another kind of export.</exception>
    public static void RefuseOtherKind(PipelineDefinition definition, ContrastiveTrainer trainer)
    {
        ArgumentNullException.ThrowIfNull(definition);
        ArgumentNullException.ThrowIfNull(trainer);
        ExportManifest.RefuseOtherKind(definition.Export.Directory, definition.Export.Layout,
            EmbeddingsOf(definition, trainer));
    }

    // An image-only model (SimCLR, SupCon) has no text encoder: its exports hold image embeddings alone.
    private static ExportEmbeddings EmbeddingsOf(PipelineDefinition definition, ContrastiveTrainer trainer) =>
        trainer is ClipTrainer ? definition.Export.Embeddings : ExportEmbeddings.Image;

    private bool Images => Embeddings != ExportEmbeddings.Text;

    private bool Texts => Embeddings != ExportEmbeddings.Image;

    /// <summary>Exports every sample of <paramref name="order"/>'s first epoch (give it an unshuffled order).</summary>
    public async Task<ExportResult> RunAsync(SampleOrder order, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(order);
        var clock = Stopwatch.StartNew();
        ExportSettings export = _definition.Export;
        ExportedModel model =
            _model ?? new ExportedModel(_trainer.Step, Safetensors.Fingerprint(_trainer.Network), null);
        Directory.CreateDirectory(export.Directory);
        if (export.SaveSafetensors)
        {
            Safetensors.Save(_trainer.Network, Path.Combine(export.Directory, SafetensorsFile));
        }
        ExportManifest manifest = await ExportManifest.OpenAsync(export.Directory, export.Layout, Embeddings,
            _trainer.ImageEmbeddingWidth, model, RunFingerprint.ShardsDigest(order.Shards), cancellationToken);
        long resumeAfter = manifest.ResumeAfterIndex;
        IEmbeddingLayout layout = export.Layout == ExportLayout.Parquet
            ? new ParquetEmbeddingLayout(export.Directory, Embeddings, model)
            : new ClipRetrievalLayout(export.Directory, Embeddings);
        var writer = new EmbeddingShardWriter(layout, manifest, export.RowsPerShard, export.ShardPerInput,
            _recorder.SealPartAsync);
        var recall = new RecallSet(export.RecallSamples, _trainer.ImageEmbeddingWidth);
        var embedding = new Stopwatch();

        await RunGraphAsync(order, resumeAfter, writer, recall, embedding, cancellationToken);
        await writer.FlushAsync(cancellationToken);
        await manifest.CompleteAsync(cancellationToken);

        return new ExportResult(manifest.Rows, writer.Shards, Images && Texts ? recall.Summarise() : null)
        {
            Manifest = manifest.Path,
            RowsEmbedded = writer.RowsWritten,
            Elapsed = clock.Elapsed,
            Embedding = embedding.Elapsed,
            Writing = writer.WritingTime,
        };
    }

    // Samples up to resumeAfter are in shards an earlier, stopped export finished: they are read (the order depends
    // on them) but neither decoded nor written again.
    private async Task RunGraphAsync(SampleOrder order, long resumeAfter, EmbeddingShardWriter writer,
        RecallSet recall, Stopwatch embedding, CancellationToken cancellationToken)
    {
        // Where each sample came from, in order; the decode stage drops rejected samples, and the embed stage skips
        // their entries.
        var origins = new ConcurrentQueue<OrderedSample>();
        using var graph = new DataflowGraph();
        int workers = _definition.Images.Workers;
        var prepare = graph.Add(new TransformManyBlock<OrderedSample, PreparedSample>(
            async s => await _preparer.PrepareAsync(s, train: false, graph.Aborted) is { } p ? [p] : [],
            graph.Options(capacity: workers * 4, parallelism: workers)));
        int batchSize = _definition.Batch.Size;
        var batch = graph.Add(new BatchBlock<PreparedSample>(batchSize, graph.GroupingOptions(batchSize * 2)));
        var embed = graph.Add(new TransformBlock<PreparedSample[], ExportedSample[]>(
            b => Embed(b, origins, embedding), graph.Options(capacity: 2)));
        var write = graph.Add(new ActionBlock<ExportedSample[]>(
            b => WriteAsync(b, writer, recall, graph.Aborted), graph.Options(capacity: 2)));
        DataflowGraph.Link(prepare, batch);
        DataflowGraph.Link(batch, embed);
        DataflowGraph.Link(embed, write);

        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        await graph.RunAsync(prepare, async (head, aborted) =>
        {
            await foreach (OrderedSample sample in order.EpochAsync(0,
                e => _recorder.RejectShardAsync(e, aborted), stop.Token))
            {
                if (sample.Index <= resumeAfter)
                {
                    continue;
                }
                origins.Enqueue(sample);
                if (!await head.SendAsync(sample, stop.Token))
                {
                    break;
                }
            }
        });
        cancellationToken.ThrowIfCancellationRequested();
    }

    private ExportedSample[] Embed(PreparedSample[] batch, ConcurrentQueue<OrderedSample> origins, Stopwatch clock)
    {
        // Every batch is embedded at the full batch size, the rows past its end left zero: a row's embedding depends
        // on the shape of the batch it is in (the kernels that libtorch picks), so a short batch, or one that starts
        // elsewhere after a resume, would give other bits than an uninterrupted export.
        int size = 3 * _definition.Images.Size * _definition.Images.Size;
        int capacity = _definition.Batch.Size;
        var images = new float[capacity * size];
        var tokens = new long[capacity * _definition.Model.ContextLength];
        PreparedSample.Collate(batch, size, images, tokens);
        foreach (PreparedSample sample in batch)
        {
            sample.Return();
        }

        clock.Start();
        float[]? imageEmbeddings = Images ? _trainer.EmbedImages(images, capacity) : null;
        float[]? textEmbeddings = Texts ? ((ClipTrainer)_trainer).EmbedTexts(tokens, capacity) : null;
        clock.Stop();

        int dimension = _trainer.ImageEmbeddingWidth;
        var rows = new ExportedSample[batch.Length];
        for (int i = 0; i < batch.Length; i++)
        {
            RawSample raw = OriginOf(batch[i].Index, origins).Raw;
            rows[i] = new ExportedSample(batch[i].Index, batch[i].Key, batch[i].Caption, raw.Label, raw.Shard, raw.Row,
                imageEmbeddings?.AsSpan(i * dimension, dimension).ToArray(),
                textEmbeddings?.AsSpan(i * dimension, dimension).ToArray());
        }
        return rows;
    }

    // Samples reach the embed stage in order, so the queue's head is this sample or one that was rejected before it.
    private static OrderedSample OriginOf(long index, ConcurrentQueue<OrderedSample> origins)
    {
        while (origins.TryDequeue(out OrderedSample? origin))
        {
            if (origin.Index == index)
            {
                return origin;
            }
            Debug.Assert(origin.Index < index, "the decode stage keeps the order");
        }
        throw new UnreachableException($"Sample {index} reached the embed stage without being read.");
    }

    private static async Task WriteAsync(ExportedSample[] rows, EmbeddingShardWriter writer, RecallSet recall,
        CancellationToken cancellationToken)
    {
        foreach (ExportedSample row in rows)
        {
            recall.Add(row.Image, row.Text);
            await writer.AppendAsync(row, cancellationToken);
        }
    }

    /// <summary>The first embeddings of an export, kept for the recall summary.</summary>
    private sealed class RecallSet(int capacity, int dimension)
    {
        private readonly List<float> _images = [];
        private readonly List<float> _texts = [];
        private int _count;

        public void Add(float[]? image, float[]? text)
        {
            if (_count == capacity || image is null || text is null)
            {
                return;
            }
            _images.AddRange(image);
            _texts.AddRange(text);
            _count++;
        }

        public RecallSummary? Summarise()
        {
            if (_count < 2)
            {
                return null;
            }
            float[] images = [.. _images];
            float[] texts = [.. _texts];
            return new RecallSummary(
                _count,
                RetrievalRecall.AtK(images, texts, _count, dimension, 1),
                RetrievalRecall.AtK(images, texts, _count, dimension, 5),
                RetrievalRecall.AtK(texts, images, _count, dimension, 1),
                RetrievalRecall.AtK(texts, images, _count, dimension, 5));
        }
    }
}
