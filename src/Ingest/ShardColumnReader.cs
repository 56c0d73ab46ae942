using System.Runtime.CompilerServices;
using System.Text;
using Parquet;
using Parquet.Schema;
using Polly;

namespace DataflowContrastive.Ingest;

/// <summary>
/// Reads named flat columns of a Parquet shard row group by row group, within the budgets of
/// <see cref="IngestOptions"/>, retrying transient I/O failures and turning every sign of bad data into a
/// <see cref="ShardException"/> or, for <see cref="ShardReader"/>, into rows that carry the reason.
/// <see cref="ShardReader"/> is built on it; it also serves files of any schema.
/// </summary>
/// <remarks>
/// The row-group budget trusts the sizes that the file's metadata states. A file that understates them is
/// stopped only by the Parquet library's own checks while its pages are decompressed.
/// </remarks>
public sealed class ShardColumnReader
{
    // A reference in the column's array plus a boxed value or a string header: a rough floor per value.
    private const long BytesPerCell = 32;

    // The rows of a row group that could not be read are handed on in stretches of this many, so that a group
    // claiming millions of rows costs no more memory than a small one.
    private const int FailedRowsPerBatch = 4096;

    private readonly IngestOptions _options;
    private readonly ResiliencePipeline _retry;
    private readonly Func<string, Stream> _open;

    /// <summary>Creates a reader with validated <paramref name="options"/>.</summary>
    public ShardColumnReader(IngestOptions options)
        : this(options, OpenFile, TimeProvider.System)
    {
    }

    /// <summary>
    /// For tests: <paramref name="open"/> replaces opening the file, <paramref name="time"/> the clock.
    /// </summary>
    internal ShardColumnReader(IngestOptions options, Func<string, Stream> open, TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        _options = options;
        _open = open;
        _retry = TransientIo.CreatePipeline(options, time);
    }

    /// <summary>
    /// Reads the columns named by their dotted paths (<c>caption</c>, <c>image.bytes</c>) from every row group of
    /// <paramref name="shardPath"/>, in file order. A column the shard lacks, a list or map column, a row group
    /// over <see cref="IngestOptions.MaxRowGroupBytes"/> and corrupt data raise <see cref="ShardException"/>;
    /// batches of earlier row groups have been delivered by then.
    /// </summary>
    /// <remarks>
    /// This overload is strict: it serves files this project wrote itself (the rejects parts, read back to count
    /// them), where one bad row group means the file as a whole cannot be trusted. <see cref="ShardReader"/>
    /// instead rejects the rows of a bad row group one by one and reads on.
    /// </remarks>
    public IAsyncEnumerable<ColumnBatch> ReadAsync(string shardPath, IReadOnlyList<string> columns,
        CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(shardPath);
        ArgumentNullException.ThrowIfNull(columns);
        return ReadAsync(shardPath, schema => [.. columns.Select(name => FindColumn(schema, shardPath, name))],
            rejectBadRowGroups: false, cancellationToken);
    }

    /// <summary>
    /// Like the public overload, with the columns chosen from the schema once the footer is read. With
    /// <paramref name="rejectBadRowGroups"/>, a row group over the budget or with corrupt data is handed on as
    /// batches whose <see cref="ColumnBatch.FailureCode"/> is set and whose every row carries the reason, and
    /// reading goes on with the next row group.
    /// </summary>
    /// <remarks>
    /// Whatever <paramref name="rejectBadRowGroups"/> says, the whole shard fails with <see cref="ShardException"/>
    /// when it cannot be opened, its footer or schema is bad, a column is missing, nested or of a type not read, a
    /// row group claims a row count no array can hold, or an I/O failure outlasts the retries: such a failure
    /// says nothing about one row group's data, and reading on would only repeat it.
    /// </remarks>
    internal async IAsyncEnumerable<ColumnBatch> ReadAsync(string shardPath,
        Func<ParquetSchema, IReadOnlyList<DataField>> chooseColumns, bool rejectBadRowGroups,
        [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        ParquetReader reader = await OpenAsync(shardPath, cancellationToken);
        await using (reader)
        {
            IReadOnlyList<DataField> fields = chooseColumns(reader.Schema);
            CheckColumns(fields, shardPath);
            string[] names = [.. fields.Select(DottedPath)];
            long firstRow = 0;
            for (int rowGroup = 0; rowGroup < reader.RowGroupCount; rowGroup++)
            {
                // A row group refused from its metadata awaits nothing that would notice a cancellation.
                cancellationToken.ThrowIfCancellationRequested();
                int rowCount = CountRows(reader, shardPath, rowGroup, firstRow);
                ColumnBatch? batch = null;
                ShardException? failure = null;
                try
                {
                    batch = await ReadRowGroupAsync(reader, shardPath, fields, rowGroup, firstRow, rowCount,
                        cancellationToken);
                }
                catch (ShardException e) when (rejectBadRowGroups
                    && e.Code is ShardException.TooLarge or ShardException.Corrupt)
                {
                    failure = e;
                }

                if (batch is not null)
                {
                    yield return batch;
                }
                for (int done = 0; failure is not null && done < rowCount; done += FailedRowsPerBatch)
                {
                    yield return ColumnBatch.Failed(rowGroup, firstRow + done,
                        Math.Min(FailedRowsPerBatch, rowCount - done), names, RowCodeOf(failure), failure.Reason);
                }
                firstRow += rowCount;
            }
        }
    }

    /// <summary>
    /// The number of rows <paramref name="shardPath"/> holds, from its footer alone: no data page is read. A corrupt
    /// footer raises <see cref="ShardException"/>.
    /// </summary>
    public async Task<long> CountRowsAsync(string shardPath, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(shardPath);
        ParquetReader reader = await OpenAsync(shardPath, cancellationToken);
        await using (reader)
        {
            long rows = 0;
            for (int rowGroup = 0; rowGroup < reader.RowGroupCount; rowGroup++)
            {
                rows += reader.OpenRowGroupReader(rowGroup).RowCount;
            }
            return rows;
        }
    }

    /// <summary>
    /// The dotted path of a column (<c>image.bytes</c>), as
    /// <see cref="ReadAsync(string, IReadOnlyList{string}, CancellationToken)"/> takes it.
    /// </summary>
    public static string DottedPath(DataField field)
    {
        ArgumentNullException.ThrowIfNull(field);
        return string.Join('.', field.Path.ToList());
    }

    private static DataField FindColumn(ParquetSchema schema, string shardPath, string name)
    {
        DataField? field = schema.GetDataFields().FirstOrDefault(f => DottedPath(f) == name);
        return field ?? throw new ShardException(shardPath, null,
            $"no column '{name}'; the shard has {string.Join(", ", schema.GetDataFields().Select(DottedPath))}")
        {
            Code = ShardException.Columns,
        };
    }

    // Checked once from the schema: a column no row group can serve fails the shard, not each row group in turn.
    // (A list or map column is refused with each row group, after its size, so that a huge one is named as such.)
    private static void CheckColumns(IReadOnlyList<DataField> fields, string shardPath)
    {
        DataField? unread = fields.FirstOrDefault(f => !ColumnValues.CanRead(f));
        if (unread is not null)
        {
            throw new ShardException(shardPath, null,
                $"column {DottedPath(unread)} has type {unread.ClrType.Name}, which this reader does not read")
            {
                Code = ShardException.Columns,
            };
        }
    }

    // A row count that no array can hold (or a negative one) is no claim about one row group's data: the footer
    // itself cannot be trusted, nor the row numbers of the row groups after it.
    private int CountRows(ParquetReader reader, string shardPath, int rowGroup, long firstRow)
    {
        long rows;
        try
        {
            rows = reader.OpenRowGroupReader(rowGroup).RowCount;
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            throw new ShardException(shardPath, firstRow,
                $"row group {rowGroup}: {TransientIo.Describe(e, _options.RetryCount)}", e);
        }
        if (rows < 0 || rows > Array.MaxLength)
        {
            throw new ShardException(shardPath, firstRow,
                $"row group {rowGroup} claims {rows} rows, which no reader can hold; the footer is not to be trusted")
            {
                Code = rows < 0 ? ShardException.Corrupt : ShardException.TooLarge,
            };
        }
        return (int)rows;
    }

    private static string RowCodeOf(ShardException failure) =>
        failure.Code == ShardException.TooLarge ? RawSample.RowGroupTooLarge : RawSample.RowGroupCorrupt;

    // How a row group is named in a reason: its index and the file's rows it holds.
    private static string Named(int rowGroup, long firstRow, int rowCount) => rowCount == 0
        ? $"row group {rowGroup} (no rows)"
        : $"row group {rowGroup} (rows {firstRow}-{firstRow + rowCount - 1})";

    private static Stream OpenFile(string path) =>
        new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, bufferSize: 64 * 1024,
            FileOptions.Asynchronous | FileOptions.RandomAccess);

    private async Task<ParquetReader> OpenAsync(string shardPath, CancellationToken cancellationToken)
    {
        try
        {
            return await _retry.ExecuteAsync(async ct =>
            {
                Stream stream = _open(shardPath);
                ParquetReader? reader = null;
                try
                {
                    await ParquetFooter.CheckAsync(stream, shardPath, ct);
                    reader = await ParquetReader.CreateAsync(stream, null, leaveStreamOpen: false, ct);

                    // The schema is decoded lazily; decoding it here keeps its failures inside this handler.
                    _ = reader.Schema.GetDataFields();
                    return reader;
                }
                catch
                {
                    await (reader is null ? stream.DisposeAsync() : reader.DisposeAsync());
                    throw;
                }
            }, cancellationToken);
        }
        catch (Exception e) when (e is not OperationCanceledException and not ShardException)
        {
            throw new ShardException(shardPath, null, TransientIo.Describe(e, _options.RetryCount), e)
            {
                Code = TransientIo.CodeOf(e),
            };
        }
    }

    private async Task<ColumnBatch> ReadRowGroupAsync(ParquetReader reader, string shardPath,
        IReadOnlyList<DataField> fields, int rowGroup, long firstRow, int rowCount,
        CancellationToken cancellationToken)
    {
        string named = Named(rowGroup, firstRow, rowCount);
        string? column = null;
        try
        {
            ParquetRowGroupReader group = reader.OpenRowGroupReader(rowGroup);
            CheckBudget(group, shardPath, fields, named, firstRow);
            string?[] problems = new string?[rowCount];
            var columns = new List<object?[]>(fields.Count);
            var invalidUtf8 = new List<bool[]?>(fields.Count);
            foreach (DataField field in fields)
            {
                column = DottedPath(field);
                object?[] values = await ReadColumnAsync(group, field, rowCount, cancellationToken);
                invalidUtf8.Add(values is string?[] text
                    ? await ColumnValues.FindInvalidUtf8Async(group, field, text, cancellationToken)
                    : null);
                DropOversized(values, DottedPath(field), problems);
                columns.Add(values);
            }
            return new ColumnBatch(rowGroup, firstRow, rowCount, [.. fields.Select(DottedPath)], columns, problems,
                invalidUtf8);
        }
        catch (Exception e) when (e is not OperationCanceledException and not ShardException)
        {
            throw new ShardException(shardPath, firstRow,
                $"{named}: {TransientIo.Describe(e, _options.RetryCount, column)}", e)
            {
                Code = TransientIo.CodeOf(e),
            };
        }
    }

    private async Task<object?[]> ReadColumnAsync(ParquetRowGroupReader group, DataField field, int rowCount,
        CancellationToken cancellationToken)
    {
        try
        {
            return await _retry.ExecuteAsync(
                async ct => await ColumnValues.ReadAsync(group, field, rowCount, ct), cancellationToken);
        }
        catch (Exception e) when (e is not OperationCanceledException && StatisticsSayAllNull(group, field, rowCount))
        {
            // Some writers store an all-null data page (v2) with an empty compressed payload, which the library
            // refuses to decompress; the chunk's statistics then vouch that every value is null.
            return new object?[rowCount];
        }
    }

    private static bool StatisticsSayAllNull(ParquetRowGroupReader group, DataField field, int rowCount)
    {
        Parquet.Meta.ColumnMetaData? chunk = group.GetMetadata(field)?.MetaData;
        return field.MaxDefinitionLevel > 0 && field.MaxRepetitionLevel == 0 && chunk is not null
            && chunk.NumValues == rowCount && chunk.Statistics?.NullCount == rowCount;
    }

    // The metadata states each column chunk's uncompressed size: checking it first keeps a hostile or
    // oversized row group from being decompressed at all.
    private void CheckBudget(ParquetRowGroupReader group, string shardPath, IReadOnlyList<DataField> fields,
        string named, long firstRow)
    {
        long total = 0;
        foreach (DataField field in fields)
        {
            long size = group.GetMetadata(field)?.MetaData?.TotalUncompressedSize ?? 0;
            total += Math.Max(size, 0);
            if (size > _options.MaxRowGroupBytes || total > _options.MaxRowGroupBytes)
            {
                throw new ShardException(shardPath, firstRow,
                    $"{named} is too large: its columns {string.Join(", ", fields.Select(DottedPath))} "
                    + $"hold at least {Bytes(total)} uncompressed (column {DottedPath(field)}: {Bytes(size)}), over "
                    + $"the {Bytes(_options.MaxRowGroupBytes)} budget (source.max_row_group_bytes); it was not loaded")
                {
                    Code = ShardException.TooLarge,
                };
            }
        }

        DataField? nested = fields.FirstOrDefault(f => f.MaxRepetitionLevel > 0);
        if (nested is not null)
        {
            throw new ShardException(shardPath, firstRow,
                $"column {DottedPath(nested)} is a list or map; only flat columns are read")
            {
                Code = ShardException.Columns,
            };
        }

        // Each value costs a slot in its column's array and usually a boxed object, whatever its stored size:
        // a row count that no budget could hold is refused here rather than allocated.
        long slots = group.RowCount * Math.Max(fields.Count, 1) * BytesPerCell;
        if (slots > _options.MaxRowGroupBytes)
        {
            throw new ShardException(shardPath, firstRow,
                $"{named} is too large: it claims {group.RowCount} rows, whose value slots alone "
                + $"would take {Bytes(slots)}, over the {Bytes(_options.MaxRowGroupBytes)} budget "
                + "(source.max_row_group_bytes)")
            {
                Code = ShardException.TooLarge,
            };
        }
    }

    private void DropOversized(object?[] values, string column, string?[] problems)
    {
        for (int row = 0; row < values.Length; row++)
        {
            long size = values[row] switch
            {
                byte[] bytes => bytes.Length,
                string text when Encoding.UTF8.GetMaxByteCount(text.Length) > _options.MaxValueBytes =>
                    Encoding.UTF8.GetByteCount(text),
                _ => 0,
            };
            if (size > _options.MaxValueBytes)
            {
                values[row] = null;
                problems[row] = $"column {column} holds {Bytes(size)}, over the {Bytes(_options.MaxValueBytes)} "
                    + "value budget (source.max_value_bytes)";
            }
        }
    }

    internal static string Bytes(long count) => count switch
    {
        >= 1L << 30 => $"{count / (double)(1L << 30):0.##} GiB",
        >= 1L << 20 => $"{count / (double)(1L << 20):0.##} MiB",
        >= 1L << 10 => $"{count / 1024.0:0.##} KiB",
        _ => $"{count} bytes",
    };
}
