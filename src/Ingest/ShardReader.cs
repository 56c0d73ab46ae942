using System.Runtime.CompilerServices;

namespace DataflowContrastive.Ingest;

/// <summary>
/// Reads the image, caption, label and key of every row of a Parquet shard, row group by row group, so that
/// memory holds one row group at a time. A bad value or a bad row group costs only its own rows, each yielded with
/// the reason in <see cref="RawSample.Problem"/>; a shard that cannot be read at all raises
/// <see cref="ShardException"/>.
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
    /// Yields every row of <paramref name="shardPath"/> in file order. A zero-row shard yields nothing.
    /// </summary>
    /// <remarks>
    /// <para>
    /// A row group over <see cref="IngestOptions.MaxRowGroupBytes"/> or with corrupt pages is not loaded: each of
    /// its rows is still yielded, with null fields, a <see cref="RawSample.Problem"/> naming the row group, its rows
    /// and why, and <see cref="RawSample.ProblemCode"/> <see cref="RawSample.RowGroupTooLarge"/> or
    /// <see cref="RawSample.RowGroupCorrupt"/>; reading goes on with the next row group, so every row the footer
    /// counts is yielded once.
    /// </para>
    /// <para>
    /// A shard that cannot be opened, whose footer or schema is corrupt, whose columns cannot serve or that holds
    /// links instead of images raises <see cref="ShardException"/>, as does an I/O failure that outlasts the
    /// retries; rows yielded before stay yielded.
    /// </para>
    /// </remarks>
    public IAsyncEnumerable<RawSample> ReadAsync(string shardPath, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(shardPath);
        return ReadRowsAsync(Path.GetFullPath(shardPath), cancellationToken);
    }

    /// <summary>
    /// Yields the label of every row of <paramref name="shardPath"/> in file order, in the string form of
    /// <see cref="RawSample.Label"/>, reading the label column alone; nothing when the shard has no label column.
    /// A row of a row group that cannot be read yields null, as its sample is rejected when the shard is read for
    /// its rows; what makes <see cref="ReadAsync"/> raise <see cref="ShardException"/> raises it here too.
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
        }, rejectBadRowGroups: true, cancellationToken);

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
        }, rejectBadRowGroups: true, cancellationToken);

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
                    ProblemCode = batch.FailureCode,
                    CaptionHadInvalidUtf8 = captions is not null && batch.HadInvalidUtf8(CaptionColumn, i),
                };
            }
        }
    }
}
