using Parquet.Schema;

namespace DataflowContrastive.Ingest;

/// <summary>
/// The columns of one shard that <see cref="ShardReader"/> reads, named by a <see cref="ColumnMapping"/> or
/// detected from the schema.
/// </summary>
/// <remarks>
/// Detection, name comparisons ignoring case: the image is a struct column holding a binary <c>bytes</c> field
/// (the Hugging Face image layout), else a binary column named jpg, jpeg, png, webp, image, image_bytes, img or
/// bytes, else the only binary column. The caption is a string column named caption, text, txt, sentence or
/// title; the label a column named label, labels, class or cls; the key a column named key, __key__ or id.
/// Only top-level columns are detected; a mapping may name any flat column by its dotted path.
/// </remarks>
internal sealed record ShardColumns(DataField Image, DataField? Caption, DataField? Label, DataField? Key)
{
    private static readonly string[] ImageNames =
        ["jpg", "jpeg", "png", "webp", "image", "image_bytes", "img", "bytes"];
    private static readonly string[] CaptionNames = ["caption", "text", "txt", "sentence", "title"];
    private static readonly string[] LabelNames = ["label", "labels", "class", "cls"];
    private static readonly string[] KeyNames = ["key", "__key__", "id"];

    /// <summary>The fields to read, image first, then caption, label and key where present.</summary>
    public IReadOnlyList<DataField> Fields => [Image, .. new[] { Caption, Label, Key }.OfType<DataField>()];

    public static ShardColumns Resolve(ParquetSchema schema, ColumnMapping mapping, string shardPath)
    {
        DataField image = ResolveImage(schema, mapping.Image, shardPath);
        return new ShardColumns(
            image,
            Named(schema, mapping.Caption, shardPath, "a flat column") ?? Detect(schema, CaptionNames, IsText),
            Named(schema, mapping.Label, shardPath, "a flat column") ?? Detect(schema, LabelNames, IsTextOrInteger),
            Named(schema, mapping.Key, shardPath, "a flat column") ?? Detect(schema, KeyNames, IsTextOrInteger));
    }

    private static DataField ResolveImage(ParquetSchema schema, string? name, string shardPath)
    {
        if (name is not null)
        {
            StructField? named = schema.Fields.OfType<StructField>().FirstOrDefault(s => s.Name == name);
            DataField? field = named is null ? Named(schema, name, shardPath, "binary") : BytesOf(named);
            return field is not null && IsBinary(field) ? field : throw new ShardException(shardPath, null,
                $"column '{name}' is neither binary nor a struct with a binary 'bytes' field")
            {
                Code = ShardException.Columns,
            };
        }

        DataField? detected = schema.Fields.OfType<StructField>().Select(BytesOf).OfType<DataField>().FirstOrDefault()
            ?? Detect(schema, ImageNames, IsBinary);
        if (detected is not null)
        {
            return detected;
        }

        DataField[] binaries = [.. schema.Fields.OfType<DataField>().Where(IsBinary)];
        return binaries.Length switch
        {
            1 => binaries[0],
            0 => throw NoImageColumn(schema, shardPath),
            _ => throw new ShardException(shardPath, null,
                $"several binary columns ({string.Join(", ", binaries.Select(b => b.Name))}) and none named as an "
                + "image; name the image column in the column mapping")
            {
                Code = ShardException.Columns,
            },
        };
    }

    private static ShardException NoImageColumn(ParquetSchema schema, string shardPath)
    {
        DataField? link = schema.Fields.OfType<DataField>()
            .FirstOrDefault(f => IsText(f) && f.Name.EndsWith("url", StringComparison.OrdinalIgnoreCase));
        return link is not null
            ? new ShardException(shardPath, null,
                $"the shard holds links (column {link.Name}), not image bytes; download the images into shards first")
            {
                Code = ShardException.LinksOnly,
            }
            : new ShardException(shardPath, null,
                "no image column: the shard has no binary column and no struct with a binary 'bytes' field")
            {
                Code = ShardException.Columns,
            };
    }

    private static DataField? BytesOf(StructField field) =>
        field.Fields.OfType<DataField>().FirstOrDefault(f => f.Name == "bytes" && IsBinary(f));

    // A mapped name that is a map, list or struct exists but has the wrong type: the reason says which, so that
    // it is not mistaken for a missing column. `wanted` says what the mapping needed instead.
    private static DataField? Named(ParquetSchema schema, string? name, string shardPath, string wanted)
    {
        if (name is null)
        {
            return null;
        }
        string? kind = schema.Fields.FirstOrDefault(f => f.Name == name) switch
        {
            MapField => "a map",
            ListField => "a list",
            StructField => "a struct",
            _ => null,
        };
        string reason = kind is null
            ? $"the column mapping names '{name}', which the shard lacks"
            : $"column '{name}' is {kind} column, not {wanted}";
        return schema.GetDataFields().FirstOrDefault(f => ShardColumnReader.DottedPath(f) == name)
            ?? throw new ShardException(shardPath, null, reason)
            {
                Code = ShardException.Columns,
            };
    }

    private static DataField? Detect(ParquetSchema schema, string[] names, Func<DataField, bool> fits)
    {
        DataField[] top = [.. schema.Fields.OfType<DataField>().Where(fits)];
        return names
            .Select(name => top.FirstOrDefault(f => string.Equals(f.Name, name, StringComparison.OrdinalIgnoreCase)))
            .FirstOrDefault(f => f is not null);
    }

    private static bool IsBinary(DataField field) =>
        field.ClrType == typeof(ReadOnlyMemory<byte>) || field.ClrType == typeof(byte[]);

    private static bool IsText(DataField field) =>
        field.ClrType == typeof(ReadOnlyMemory<char>) || field.ClrType == typeof(string);

    private static bool IsTextOrInteger(DataField field) =>
        IsText(field) || field.ClrType == typeof(int) || field.ClrType == typeof(long) || field.ClrType == typeof(short)
        || field.ClrType == typeof(uint) || field.ClrType == typeof(ulong) || field.ClrType == typeof(ushort)
        || field.ClrType == typeof(byte) || field.ClrType == typeof(sbyte);
}
