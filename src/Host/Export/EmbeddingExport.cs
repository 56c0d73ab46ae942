using System.Threading.Tasks.Dataflow;
using DataflowContrastive.Host.Pipelines;
using DataflowContrastive.Host.Running;
using DataflowContrastive.Ingest;
using DataflowContrastive.Train;

namespace DataflowContrastive.Host.Export;

/// <summary>What an export wrote, and the recall measured over its first samples.</summary>
public sealed record ExportResult(long Rows, IReadOnlyList<string> Shards, RecallSummary? Recall);

/// <summary>
/// Embeds every sample of the shards once, with the evaluation transform and in file order, and writes the image and
/// text embeddings to Parquet embedding shards. Recall@k is measured over the first samples exported (at most
/// <c>export.recall_samples</c>, since it compares every pair).
/// </summary>
public sealed class EmbeddingExport
{
    private readonly PipelineDefinition _definition;
    private readonly ClipTrainer _trainer;
    private readonly SamplePreparer _preparer;
    private readonly RunRecorder _recorder;

    public EmbeddingExport(PipelineDefinition definition, ClipTrainer trainer, SamplePreparer preparer,
        RunRecorder recorder)
    {
        _definition = definition;
        _trainer = trainer;
        _preparer = preparer;
        _recorder = recorder;
    }

    public async Task<ExportResult> RunAsync(SampleOrder order, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(order);
        int dimension = _definition.Model.EmbedDim;
        var recall = new RecallSet(_definition.Export.RecallSamples, dimension);
        await using var writer = new EmbeddingShardWriter(_definition.Export.Directory,
            _definition.Export.RowsPerShard, _trainer.Step);

        using (var graph = new DataflowGraph())
        {
            int workers = _definition.Images.Workers;
            var prepare = graph.Add(new TransformManyBlock<OrderedSample, PreparedSample>(
                async s => await _preparer.PrepareAsync(s, train: false, graph.Aborted) is { } p ? [p] : [],
                graph.Options(capacity: workers * 4, parallelism: workers)));
            int batchSize = _definition.Batch.Size;
            var batch = graph.Add(new BatchBlock<PreparedSample>(batchSize, graph.GroupingOptions(batchSize * 2)));
            var embed = graph.Add(new ActionBlock<PreparedSample[]>(
                b => EmbedAsync(b, writer, recall, graph.Aborted), graph.Options(capacity: 2)));
            DataflowGraph.Link(prepare, batch);
            DataflowGraph.Link(batch, embed);

            using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            await graph.RunAsync(prepare, async (head, aborted) =>
            {
                await foreach (OrderedSample sample in order.EpochAsync(0, e => _recorder.RejectAsync(
                    new Rejection(e.Shard, e.Row, null, e.Message, null), "shard-corrupt", aborted), stop.Token))
                {
                    if (!await head.SendAsync(sample, stop.Token))
                    {
                        break;
                    }
                }
            });
            cancellationToken.ThrowIfCancellationRequested();
        }

        await writer.FlushAsync(cancellationToken);
        return new ExportResult(writer.RowsWritten, writer.Shards, recall.Summarise());
    }

    private async Task EmbedAsync(PreparedSample[] batch, EmbeddingShardWriter writer, RecallSet recall,
        CancellationToken cancellationToken)
    {
        int size = 3 * _definition.Images.Size * _definition.Images.Size;
        var images = new float[batch.Length * size];
        var tokens = new long[batch.Length * _definition.Model.ContextLength];
        PreparedSample.Collate(batch, size, images, tokens);

        float[] imageEmbeddings = _trainer.EmbedImages(images, batch.Length);
        float[] textEmbeddings = _trainer.EmbedTexts(tokens, batch.Length);
        int dimension = _definition.Model.EmbedDim;
        for (int i = 0; i < batch.Length; i++)
        {
            float[] image = imageEmbeddings.AsSpan(i * dimension, dimension).ToArray();
            float[] text = textEmbeddings.AsSpan(i * dimension, dimension).ToArray();
            recall.Add(image, text);
            await writer.AppendAsync(new EmbeddingRow
            {
                Key = batch[i].Key,
                Caption = batch[i].Caption,
                ImageEmbedding = image,
                TextEmbedding = text,
            }, cancellationToken);
            batch[i].Return();
        }
    }

    /// <summary>The first embeddings of an export, kept for the recall summary.</summary>
    private sealed class RecallSet(int capacity, int dimension)
    {
        private readonly List<float> _images = [];
        private readonly List<float> _texts = [];
        private int _count;

        public void Add(float[] image, float[] text)
        {
            if (_count == capacity)
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
