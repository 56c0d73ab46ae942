namespace DataflowContrastive.Ingest;

/// <summary>The values of the columns read from one row group, one array per column, one entry per row.</summary>
public sealed class ColumnBatch
{
    private readonly IReadOnlyList<bool[]?> _invalidUtf8;

    internal ColumnBatch(int rowGroup, long firstRow, int rowCount, IReadOnlyList<string> names,
        IReadOnlyList<object?[]> columns, string?[] problems, IReadOnlyList<bool[]?> invalidUtf8)
    {
        _invalidUtf8 = invalidUtf8;
        RowGroup = rowGroup;
        FirstRow = firstRow;
        RowCount = rowCount;
        Names = names;
        Columns = columns;
        Problems = problems;
    }

    /// <summary>0-based index of the row group in its file.</summary>
    public int RowGroup { get; }

    /// <summary>The file's 0-based row index of this batch's first row.</summary>
    public long FirstRow { get; }

    /// <summary>How many rows the row group holds.</summary>
    public int RowCount { get; }

    /// <summary>The dotted column paths (<c>image.bytes</c>), in the order of <see cref="Columns"/>.</summary>
    public IReadOnlyList<string> Names { get; }

    /// <summary>
    /// Per column, the row values: <see cref="string"/> for text, <see cref="byte"/> arrays for binary, the boxed
    /// CLR value for numbers and dates, null where the file holds null or the value was dropped (see
    /// <see cref="Problems"/>).
    /// </summary>
    public IReadOnlyList<object?[]> Columns { get; }

    /// <summary>Per row, why a value was dropped (for example over the value budget), or null.</summary>
    public IReadOnlyList<string?> Problems { get; }

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
