using System.Diagnostics;

namespace DataflowContrastive.Host.Export;

/// <summary>
/// Groups embedded samples into output shards, of <c>export.rows_per_shard</c> rows or (with
/// <c>export.shard_per_input</c>) also one per input shard, and hands each finished group to the layout, then to the
/// manifest. A shard is listed in the manifest only once all its files are in place.
/// </summary>
public sealed class EmbeddingShardWriter
{
    private readonly IEmbeddingLayout _layout;
    private readonly ExportManifest _manifest;
    private readonly int _rowsPerShard;
    private readonly bool _shardPerInput;
    private readonly List<ExportedSample> _pending = [];
    private readonly List<string> _written = [];
    private readonly Stopwatch _writing = new();

    private readonly Func<CancellationToken, ValueTask>? _beforeListing;

    /// <summary>Creates a writer whose shards <paramref name="layout"/> writes and the manifest lists.</summary>
    /// <param name="beforeListing">
    /// Runs after a shard's files are written and before the manifest lists it: the rejections of the rows it
    /// covers are made durable there, since a resumed export never reads those rows again.
    /// </param>
    public EmbeddingShardWriter(IEmbeddingLayout layout, ExportManifest manifest, int rowsPerShard, bool shardPerInput,
        Func<CancellationToken, ValueTask>? beforeListing = null)
    {
        _beforeListing = beforeListing;
        ArgumentNullException.ThrowIfNull(layout);
        ArgumentNullException.ThrowIfNull(manifest);
        ArgumentOutOfRangeException.ThrowIfLessThan(rowsPerShard, 1);
        _layout = layout;
        _manifest = manifest;
        _rowsPerShard = rowsPerShard;
        _shardPerInput = shardPerInput;
    }

    /// <summary>The files of the shards written so far, in order, as full paths.</summary>
    public IReadOnlyList<string> Shards => _written;

    /// <summary>Rows written to complete shards so far.</summary>
    public long RowsWritten { get; private set; }

    /// <summary>Time spent writing files and the manifest.</summary>
    public TimeSpan WritingTime => _writing.Elapsed;

    /// <summary>Adds one sample; samples arrive in export order.</summary>
    public async ValueTask AppendAsync(ExportedSample sample, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(sample);
        Debug.Assert(_pending.Count == 0 || _pending[^1].Index < sample.Index, "samples arrive in export order");
        if (_shardPerInput && _pending.Count > 0 && !string.Equals(_pending[^1].Shard, sample.Shard,
                StringComparison.Ordinal))
        {
            await FlushAsync(cancellationToken);
        }
        _pending.Add(sample);
        if (_pending.Count == _rowsPerShard)
        {
            await FlushAsync(cancellationToken);
        }
    }

    /// <summary>Writes the rows still pending as a last, shorter shard.</summary>
    public async ValueTask FlushAsync(CancellationToken cancellationToken)
    {
        if (_pending.Count == 0)
        {
            return;
        }
        _writing.Start();
        int number = _manifest.Shards.Count;
        IReadOnlyList<string> files = await _layout.WriteShardAsync(number, _pending, cancellationToken);
        if (_beforeListing is not null)
        {
            await _beforeListing(cancellationToken);
        }
        await _manifest.AddAsync(number, _pending, files, cancellationToken);
        _writing.Stop();

        string directory = Path.GetDirectoryName(_manifest.Path)!;
        _written.AddRange(files.Select(f => Path.Combine(directory, f)));
        RowsWritten += _pending.Count;
        _pending.Clear();
    }
}
