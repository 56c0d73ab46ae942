using System.Collections.Frozen;
using System.Diagnostics;
using System.Globalization;
using System.Text.Unicode;
using Parquet;
using Parquet.Schema;

namespace DataflowContrastive.Ingest;

/// <summary>Reads one flat column of a row group into boxed values, null where the file holds null.</summary>
/// <remarks>
/// The Parquet library decodes text itself and puts U+FFFD in place of bytes that are not UTF-8. Such rows are
/// found by reading the column's bytes again, but only for top-level columns: a nested text column keeps its
/// replacement characters without being flagged.
/// </remarks>
internal static class ColumnValues
{
    private static readonly FrozenSet<Type> ReadableTypes = new[]
    {
        typeof(string), typeof(ReadOnlyMemory<char>), typeof(byte[]), typeof(ReadOnlyMemory<byte>), typeof(bool),
        typeof(sbyte), typeof(byte), typeof(short), typeof(ushort), typeof(int), typeof(uint), typeof(long),
        typeof(ulong), typeof(float), typeof(double), typeof(decimal), typeof(DateTime), typeof(DateOnly),
        typeof(TimeSpan), typeof(Guid),
    }.ToFrozenSet();

    /// <summary>Whether <see cref="ReadAsync"/> reads values of the type of <paramref name="field"/>.</summary>
    public static bool CanRead(DataField field) => ReadableTypes.Contains(field.ClrType);

    public static async Task<object?[]> ReadAsync(ParquetRowGroupReader group, DataField field, int rowCount,
        CancellationToken cancellationToken)
    {
        Type type = field.ClrType;
        if (field.MaxDefinitionLevel > 1 && (type == typeof(ReadOnlyMemory<byte>) || type == typeof(byte[])))
        {
            return await ReadNestedAsync<ReadOnlyMemory<byte>>(group, field, rowCount, v => v.ToArray(),
                cancellationToken);
        }
        if (field.MaxDefinitionLevel > 1 && (type == typeof(ReadOnlyMemory<char>) || type == typeof(string)))
        {
            return await ReadNestedAsync<ReadOnlyMemory<char>>(group, field, rowCount, v => v.ToString(),
                cancellationToken);
        }
        if (type == typeof(ReadOnlyMemory<char>) || type == typeof(string))
        {
            string?[] text = new string?[rowCount];
            await group.ReadAsync(field, text.AsMemory(), null, cancellationToken);
            return text;
        }
        if (type == typeof(ReadOnlyMemory<byte>) || type == typeof(byte[]))
        {
            byte[]?[] bytes = new byte[]?[rowCount];
            await group.ReadAsync(field, bytes.AsMemory(), null, cancellationToken);
            return bytes;
        }
        return type switch
        {
            _ when type == typeof(bool) => await ReadStructAsync<bool>(group, field, rowCount, cancellationToken),
            _ when type == typeof(sbyte) => await ReadStructAsync<sbyte>(group, field, rowCount, cancellationToken),
            _ when type == typeof(byte) => await ReadStructAsync<byte>(group, field, rowCount, cancellationToken),
            _ when type == typeof(short) => await ReadStructAsync<short>(group, field, rowCount, cancellationToken),
            _ when type == typeof(ushort) => await ReadStructAsync<ushort>(group, field, rowCount, cancellationToken),
            _ when type == typeof(int) => await ReadStructAsync<int>(group, field, rowCount, cancellationToken),
            _ when type == typeof(uint) => await ReadStructAsync<uint>(group, field, rowCount, cancellationToken),
            _ when type == typeof(long) => await ReadStructAsync<long>(group, field, rowCount, cancellationToken),
            _ when type == typeof(ulong) => await ReadStructAsync<ulong>(group, field, rowCount, cancellationToken),
            _ when type == typeof(float) => await ReadStructAsync<float>(group, field, rowCount, cancellationToken),
            _ when type == typeof(double) => await ReadStructAsync<double>(group, field, rowCount, cancellationToken),
            _ when type == typeof(decimal) => await ReadStructAsync<decimal>(group, field, rowCount, cancellationToken),
            _ when type == typeof(DateTime) =>
                await ReadStructAsync<DateTime>(group, field, rowCount, cancellationToken),
            _ when type == typeof(DateOnly) =>
                await ReadStructAsync<DateOnly>(group, field, rowCount, cancellationToken),
            _ when type == typeof(TimeSpan) =>
                await ReadStructAsync<TimeSpan>(group, field, rowCount, cancellationToken),
            _ when type == typeof(Guid) => await ReadStructAsync<Guid>(group, field, rowCount, cancellationToken),
            _ => throw new UnreachableException(
                $"Column {ShardColumnReader.DottedPath(field)} has type {type.Name}, which CanRead refuses."),
        };
    }

    // A field inside an optional struct (the Hugging Face image's `bytes`) has two levels of null: the struct, and the
    // field within it. The library's nullable read misplaces values when the field is null inside a present struct,
    // so the values and definition levels are read raw and put back in their rows here: a row holds a value only at
    // the field's full definition level.
    private static async Task<object?[]> ReadNestedAsync<T>(ParquetRowGroupReader group, DataField field,
        int rowCount, Func<T, object> materialise, CancellationToken cancellationToken)
        where T : struct
    {
        T[] packed = new T[rowCount];
        int[] levels = new int[rowCount];
        await group.ReadRawAsync<T>(field, packed.AsMemory(), levels.AsMemory(), null, cancellationToken);

        object?[] values = new object?[rowCount];
        int next = 0;
        for (int row = 0; row < rowCount; row++)
        {
            values[row] = levels[row] == field.MaxDefinitionLevel ? materialise(packed[next++]) : null;
        }
        return values;
    }

    /// <summary>
    /// Per row, whether the stored bytes behind <paramref name="text"/> were not valid UTF-8; null when no row was
    /// (the common case, decided from the text alone: only a value holding U+FFFD is looked at again).
    /// </summary>
    public static async Task<bool[]?> FindInvalidUtf8Async(ParquetRowGroupReader group, DataField field,
        string?[] text, CancellationToken cancellationToken)
    {
        if (!Array.Exists(text, t => t is not null && t.Contains('\uFFFD', StringComparison.Ordinal))
            || RawTwin(field) is not { } raw)
        {
            return null;
        }

        byte[]?[] bytes = new byte[]?[text.Length];
        await group.ReadAsync(raw, bytes.AsMemory(), null, cancellationToken);
        bool[] invalid = new bool[text.Length];
        bool any = false;
        for (int i = 0; i < text.Length; i++)
        {
            // A U+FFFD that the file really holds is valid UTF-8 (EF BF BD) and is not flagged.
            invalid[i] = bytes[i] is { } stored && text[i]!.Contains('\uFFFD', StringComparison.Ordinal)
                && !Utf8.IsValid(stored);
            any |= invalid[i];
        }
        return any ? invalid : null;
    }

    // The same top-level column declared as binary, which the library reads without decoding.
    private static DataField? RawTwin(DataField field)
    {
        if (field.Path.ToList().Count != 1)
        {
            return null;
        }
        DataField twin = new ParquetSchema(new DataField(field.Name, typeof(byte[]), field.IsNullable))
            .GetDataFields()[0];
        return twin.MaxDefinitionLevel == field.MaxDefinitionLevel ? twin : null;
    }

    /// <summary>The text form of a label or key value: strings as they are, numbers in invariant culture.</summary>
    public static string? AsText(object? value) => value switch
    {
        null => null,
        string text => text,
        IFormattable number => number.ToString(null, CultureInfo.InvariantCulture),
        _ => value.ToString(),
    };

    private static async Task<object?[]> ReadStructAsync<T>(ParquetRowGroupReader group, DataField field,
        int rowCount, CancellationToken cancellationToken)
        where T : struct
    {
        object?[] boxed = new object?[rowCount];

        // A column that can hold no null must be read through the non-nullable overload: the nullable one
        // misplaces values when there are no definition levels.
        if (field.MaxDefinitionLevel == 0)
        {
            T[] values = new T[rowCount];
            await group.ReadAsync(field, values.AsMemory(), null, cancellationToken);
            for (int i = 0; i < rowCount; i++)
            {
                boxed[i] = values[i];
            }
            return boxed;
        }

        T?[] nullable = new T?[rowCount];
        await group.ReadAsync(field, nullable.AsMemory(), null, cancellationToken);
        for (int i = 0; i < rowCount; i++)
        {
            boxed[i] = nullable[i];
        }
        return boxed;
    }
}
