using System.Runtime.CompilerServices;

namespace DataflowContrastive.Ingest;

/// <summary>
/// Reads the image, caption, label and key of every row of a Parquet shard, row group by row group, so that
/// memory holds one row group at a time. Bad data ends the shard with a <see cref="ShardException"/>.
/// </summary>
public sealed class ShardReader
{
    // Where the caption sits among the columns read: right after the image, when the shard has one.
    private const int CaptionColumn = 1;

    private readonly IngestOptions _options;
    private readonly ShardColumnReader _columns;

    /// <summary>Creates a reader; <paramref name="options"/> are validated here.</summary>
    public ShardReader(IngestOptions options)
        : this(options, new ShardColumnReader(options))
    {
    }

    internal ShardReader(IngestOptions options, ShardColumnReader columns)
    {
        ArgumentNullException.ThrowIfNull(options);
        _options = options;
        _columns = columns;
    }

    /// <summary>The number of rows the shard holds, from its footer; see <see cref="ShardColumnReader"/>.</summary>
    public Task<long> CountRowsAsync(string shardPath, CancellationToken cancellationToken) =>
        _columns.CountRowsAsync(shardPath, cancellationToken);

    /// <summary>
    /// Yields the rows of <paramref name="shardPath"/> in file order. A zero-row shard yields nothing. A shard
    /// that is corrupt, holds links instead of images or exceeds a budget raises <see cref="ShardException"/>;
    /// the rows of earlier row groups have been yielded by then. Transient I/O failures are retried first.
    /// </summary>
    public IAsyncEnumerable<RawSample> ReadAsync(string shardPath, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(shardPath);
        return ReadRowsAsync(Path.GetFullPath(shardPath), cancellationToken);
    }

    /// <summary>
    /// Yields the label of every row of <paramref name="shardPath"/> in file order, in the string form of
    /// <see cref="RawSample.Label"/>, reading the label column alone; nothing when the shard has no label column.
    /// Bad data raises <see cref="ShardException"/> as <see cref="ReadAsync"/> does.
    /// </summary>
    public IAsyncEnumerable<string?> ReadLabelsAsync(string shardPath, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(shardPath);
        return ReadLabelColumnAsync(Path.GetFullPath(shardPath), cancellationToken);
    }

    private async IAsyncEnumerable<string?> ReadLabelColumnAsync(string fullPath,
        [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        bool hasLabel = false;
        IAsyncEnumerable<ColumnBatch> batches = _columns.ReadAsync(fullPath, schema =>
        {
            ShardColumns columns = ShardColumns.Resolve(schema, _options.Columns, fullPath);
            hasLabel = columns.Label is not null;
            return hasLabel ? [columns.Label!] : [];
        }, cancellationToken);

        await foreach (ColumnBatch batch in batches)
        {
            if (!hasLabel)
            {
                yield break;
            }
            foreach (object? label in batch.Columns[0])
            {
                yield return ColumnValues.AsText(label);
            }
        }
    }

    private async IAsyncEnumerable<RawSample> ReadRowsAsync(string fullPath,
        [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        string fileName = Path.GetFileName(fullPath);
        ShardColumns? columns = null;

        IAsyncEnumerable<ColumnBatch> batches = _columns.ReadAsync(fullPath, schema =>
        {
            columns = ShardColumns.Resolve(schema, _options.Columns, fullPath);
            return columns.Fields;
        }, cancellationToken);

        await foreach (ColumnBatch batch in batches)
        {
            // Fields is image first, then caption, label and key where present, the order used here.
            int next = 1;
            object?[]? captions = columns!.Caption is null ? null : batch.Columns[next++];
            object?[]? labels = columns.Label is null ? null : batch.Columns[next++];
            object?[]? keys = columns.Key is null ? null : batch.Columns[next];

            for (int i = 0; i < batch.RowCount; i++)
            {
                long row = batch.FirstRow + i;
                yield return new RawSample(
                    fullPath,
                    row,
                    ColumnValues.AsText(keys?[i]) ?? $"{fileName}:{row}",
                    (byte[]?)batch.Columns[0][i],
                    ColumnValues.AsText(captions?[i]),
                    ColumnValues.AsText(labels?[i]))
                {
                    Problem = batch.Problems[i],
                    CaptionHadInvalidUtf8 = captions is not null && batch.HadInvalidUtf8(CaptionColumn, i),
                };
            }
        }
    }
}
