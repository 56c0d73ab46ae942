namespace DataflowContrastive.Ingest;

/// <summary>
/// The values of the columns read from one row group, one array per column, one entry per row; or, for a row group
/// that could not be read, a stretch of its rows, each with the reason (see <see cref="FailureCode"/>).
/// </summary>
public sealed class ColumnBatch
{
    private readonly IReadOnlyList<bool[]?> _invalidUtf8;

    internal ColumnBatch(int rowGroup, long firstRow, int rowCount, IReadOnlyList<string> names,
        IReadOnlyList<object?[]> columns, IReadOnlyList<string?> problems, IReadOnlyList<bool[]?> invalidUtf8,
        string? failureCode = null)
    {
        _invalidUtf8 = invalidUtf8;
        RowGroup = rowGroup;
        FirstRow = firstRow;
        RowCount = rowCount;
        Names = names;
        Columns = columns;
        Problems = problems;
        FailureCode = failureCode;
    }

    /// <summary>
    /// A batch of <paramref name="rowCount"/> rows from <paramref name="firstRow"/> of a row group that could not
    /// be read: every value null, every row with <paramref name="reason"/>.
    /// </summary>
    internal static ColumnBatch Failed(int rowGroup, long firstRow, int rowCount, IReadOnlyList<string> names,
        string failureCode, string reason) =>
        new(rowGroup, firstRow, rowCount, names, [.. names.Select(_ => new object?[rowCount])],
            Enumerable.Repeat<string?>(reason, rowCount).ToArray(), [.. names.Select(_ => (bool[]?)null)],
            failureCode);

    /// <summary>0-based index of the row group in its file.</summary>
    public int RowGroup { get; }

    /// <summary>The file's 0-based row index of this batch's first row.</summary>
    public long FirstRow { get; }

    /// <summary>
    /// How many rows the batch holds: all of its row group's, or a stretch of them where the row group could not be
    /// read.
    /// </summary>
    public int RowCount { get; }

    /// <summary>The dotted column paths (<c>image.bytes</c>), in the order of <see cref="Columns"/>.</summary>
    public IReadOnlyList<string> Names { get; }

    /// <summary>
    /// Per column, the row values: <see cref="string"/> for text, <see cref="byte"/> arrays for binary, the boxed
    /// CLR value for numbers and dates, null where the file holds null or the value was dropped (see
    /// <see cref="Problems"/>).
    /// </summary>
    public IReadOnlyList<object?[]> Columns { get; }

    /// <summary>
    /// Per row, why a value was dropped (for example over the value budget) or why the row group could not be read;
    /// null where the row is as stored.
    /// </summary>
    public IReadOnlyList<string?> Problems { get; }

    /// <summary>
    /// Null for a row group that was read. For one that could not be, the code every row of the batch is rejected
    /// under, <see cref="RawSample.RowGroupTooLarge"/> or <see cref="RawSample.RowGroupCorrupt"/>; every value is
    /// then null and <see cref="Problems"/> says why at each row.
    /// </summary>
    public string? FailureCode { get; }

    /// <summary>
    /// Whether the text value of column <paramref name="column"/> (an index into <see cref="Columns"/>) at
    /// <paramref name="row"/> (0-based within this batch) was stored as bytes that are not valid UTF-8; the value
    /// then holds U+FFFD in their place. Detected for top-level text columns only.
    /// </summary>
    public bool HadInvalidUtf8(int column, int row) => _invalidUtf8[column] is { } rows && rows[row];

    /// <summary>The values of the column named <paramref name="name"/> (its dotted path).</summary>
    public object?[] this[string name]
    {
        get
        {
            int index = -1;
            for (int i = 0; i < Names.Count && index < 0; i++)
            {
                index = Names[i] == name ? i : -1;
            }
            if (index < 0)
            {
                throw new ArgumentException($"Column '{name}' was not read; read were: {string.Join(", ", Names)}.",
                    nameof(name));
            }
            return Columns[index];
        }
    }
}
