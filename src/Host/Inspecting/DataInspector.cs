using System.Buffers;
using System.Diagnostics;
using System.Threading.Tasks.Dataflow;
using DataflowContrastive.Augment;
using DataflowContrastive.Host.Running;
using DataflowContrastive.Ingest;
using DataflowContrastive.Train;

namespace DataflowContrastive.Host.Inspecting;

/// <summary>
/// Reads and decodes every row of a shard list exactly as a run does (the same reader, the same
/// <see cref="SamplePreparer"/> with the evaluation transform, the same <see cref="RunRecorder"/>), without training,
/// and measures what it saw: rows, good samples, rejections by reason, image sizes and caption lengths.
/// </summary>
/// <remarks>
/// The sizes and lengths of every good sample are held until the end (about 20 bytes per sample) so that exact
/// medians and percentiles can be taken.
/// </remarks>
public sealed class DataInspector
{
    // Rows longer than this many tokens count as this many in the token-length distribution.
    private const int TokenCountCeiling = InspectionReport.TokenCountCeiling;

    private readonly ShardReader _reader;
    private readonly SamplePreparer _preparer;
    private readonly RunRecorder _recorder;
    private readonly CaptionTokenizer _counter = new(TokenCountCeiling + 2);
    private readonly int _workers;
    private readonly object _gate = new();
    private readonly List<int> _widths = [];
    private readonly List<int> _heights = [];
    private readonly List<int> _chars = [];
    private readonly List<int> _tokens = [];
    private readonly HashSet<string> _labels = new(StringComparer.Ordinal);
    private readonly List<string> _emptyShards = [];
    private long _rows;
    private int _rejectedShards;

    /// <summary>Creates an inspector over the parts a run would use; <paramref name="workers"/> rows at once.</summary>
    public DataInspector(ShardReader reader, SamplePreparer preparer, RunRecorder recorder, int workers)
    {
        ArgumentNullException.ThrowIfNull(reader);
        ArgumentNullException.ThrowIfNull(preparer);
        ArgumentNullException.ThrowIfNull(recorder);
        ArgumentOutOfRangeException.ThrowIfLessThan(workers, 1);
        _reader = reader;
        _preparer = preparer;
        _recorder = recorder;
        _workers = workers;
    }

    /// <summary>Reads every shard in order and returns the accounting; one inspector serves one call.</summary>
    public async Task<InspectionReport> InspectAsync(IReadOnlyList<string> shards, CancellationToken cancellation)
    {
        ArgumentNullException.ThrowIfNull(shards);
        var decode = new ActionBlock<OrderedSample>(s => InspectSampleAsync(s, cancellation),
            new ExecutionDataflowBlockOptions
            {
                BoundedCapacity = _workers * 4,
                MaxDegreeOfParallelism = _workers,
                CancellationToken = cancellation,
            });

        try
        {
            foreach (string shard in shards)
            {
                await ReadShardAsync(shard, decode, cancellation);
            }
        }
        finally
        {
            // Completing on every path lets a decode failure surface below instead of leaving the block waiting.
            decode.Complete();
        }
        await decode.Completion;
        return Report(shards.Count);
    }

    // A failing shard is recorded under its code; the rows it gave before failing stay counted. A shard without
    // rows is no rejection, only named in the report.
    private async Task ReadShardAsync(string shard, ActionBlock<OrderedSample> decode, CancellationToken cancellation)
    {
        await using IAsyncEnumerator<RawSample> rows = _reader.ReadAsync(shard, cancellation)
            .GetAsyncEnumerator(cancellation);
        for (bool first = true; ; first = false)
        {
            try
            {
                if (!await rows.MoveNextAsync())
                {
                    if (first)
                    {
                        _emptyShards.Add(shard);
                    }
                    return;
                }
            }
            catch (ShardException e)
            {
                Interlocked.Increment(ref _rejectedShards);
                await _recorder.RejectShardAsync(e, cancellation);
                return;
            }

            long index = Interlocked.Increment(ref _rows) - 1;
            if (!await decode.SendAsync(new OrderedSample(0, index, rows.Current), cancellation))
            {
                // The block only declines after a fault; awaiting its completion reports that fault.
                await decode.Completion;
            }
        }
    }

    private async Task InspectSampleAsync(OrderedSample sample, CancellationToken cancellation)
    {
        PreparedSample? prepared = await _preparer.PrepareAsync(sample, train: false, cancellation);
        if (prepared is null)
        {
            return;
        }
        prepared.Return();

        // The sample decoded, so its header reads too.
        RawSample raw = sample.Raw;
        byte[] image = raw.Image ?? throw new UnreachableException("A good sample has image bytes.");
        ImageHeader header = ImageDecoder.Probe(image);
        int tokens = CountTokens(prepared.Caption);
        lock (_gate)
        {
            _widths.Add(header.Width);
            _heights.Add(header.Height);
            _chars.Add(prepared.Caption.Length);
            _tokens.Add(tokens);
            if (raw.Label is not null)
            {
                _labels.Add(raw.Label);
            }
        }
    }

    // The caption's length in byte-pair tokens, without the start and end markers and without the run's cut.
    private int CountTokens(string caption)
    {
        long[] row = ArrayPool<long>.Shared.Rent(_counter.ContextLength);
        try
        {
            Span<long> tokens = row.AsSpan(0, _counter.ContextLength);
            _counter.Encode(caption, tokens);
            return tokens.IndexOf(CaptionTokenizer.EndOfText) - 1;
        }
        finally
        {
            ArrayPool<long>.Shared.Return(row);
        }
    }

    private InspectionReport Report(int shardCount)
    {
        lock (_gate)
        {
            return new InspectionReport
            {
                Shards = shardCount,
                ShardsRejected = _rejectedShards,
                Rows = Interlocked.Read(ref _rows),
                Good = _preparer.Good,
                RowsRejected = _preparer.Processed - _preparer.Good,
                RejectedByReason = new SortedDictionary<string, long>(_recorder.RejectedByReason.ToDictionary(),
                    StringComparer.Ordinal),
                Notes = new SortedDictionary<string, long>(_recorder.Notes.ToDictionary(), StringComparer.Ordinal),
                ImageWidth = Distribution.Of(_widths),
                ImageHeight = Distribution.Of(_heights),
                CaptionChars = Distribution.Of(_chars),
                CaptionTokens = Distribution.Of(_tokens),
                Labels = _labels.Count,
                LabelClasses = LabelMap.Create(_labels).ClassCount,
                Rejects = _recorder.RejectsPath,
                EmptyShards = [.. _emptyShards],
            };
        }
    }
}
