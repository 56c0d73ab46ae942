using System.Text.Json;
using CsvHelper;

namespace DataflowContrastive.Ingest;

/// <summary>
/// Turns local collections of images and captions into <see cref="PackItem"/>s for <see cref="ShardWriter"/>.
/// Items are produced lazily, one image file read at a time, in a stable order.
/// </summary>
public static class PackSources
{
    private static readonly string[] ImageExtensions = [".jpg", ".jpeg", ".png", ".webp", ".bmp", ".gif"];
    private static readonly string[] ImageHeaders = ["image", "file", "filename", "path"];
    private static readonly string[] CaptionHeaders = ["caption", "text", "description"];

    /// <summary>
    /// The images of a COCO captions file (<c>captions_*.json</c>) whose licence id is in
    /// <paramref name="licenses"/> (all when null), in the file's order, each with up to
    /// <paramref name="captionsPerImage"/> of its captions in the file's order: one item per caption, sharing the
    /// image bytes. Images without captions are left out. Keys are <c>{file name without extension}_{k}</c>.
    /// </summary>
    public static IEnumerable<PackItem> FromCocoCaptions(string captionsJson, string imageDirectory,
        ISet<int>? licenses, int captionsPerImage)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(captionsJson);
        ArgumentException.ThrowIfNullOrWhiteSpace(imageDirectory);
        ArgumentOutOfRangeException.ThrowIfLessThan(captionsPerImage, 1);
        return FromCocoCore(captionsJson, imageDirectory, licenses, captionsPerImage);
    }

    /// <summary>
    /// The images of a COCO captions file whose licence id is in <paramref name="licenses"/> (all when null),
    /// with their Flickr URL and licence, for an attribution list.
    /// </summary>
    public static IReadOnlyList<CocoImage> ReadCocoImages(string captionsJson, ISet<int>? licenses)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(captionsJson);
        using JsonDocument document = JsonDocument.Parse(File.ReadAllBytes(captionsJson));
        JsonElement root = document.RootElement;
        var licenceById = root.GetProperty("licenses").EnumerateArray().ToDictionary(
            l => l.GetProperty("id").GetInt32(),
            l => (Name: l.GetProperty("name").GetString(), Url: l.GetProperty("url").GetString()));
        return [.. root.GetProperty("images").EnumerateArray()
            .Select(i => (Image: i, License: i.GetProperty("license").GetInt32()))
            .Where(i => licenses is null || licenses.Contains(i.License))
            .Select(i => new CocoImage(
                i.Image.GetProperty("id").GetInt64(),
                i.Image.GetProperty("file_name").GetString()!,
                i.Image.TryGetProperty("flickr_url", out JsonElement url) ? url.GetString() : null,
                i.License,
                licenceById.GetValueOrDefault(i.License).Name,
                licenceById.GetValueOrDefault(i.License).Url))];
    }

    /// <summary>
    /// The rows of a CSV or TSV table (tab-separated when the extension is <c>.tsv</c>) with a header naming an
    /// image column (image, file, filename or path), a caption column (caption, text or description) and
    /// optionally a label column. Image paths are relative to the table's folder. Keys are
    /// <c>{file name without extension}_{row}</c>, the row counted from 0 after the header; a message names the
    /// file's line instead (1-based, the header counted).
    /// </summary>
    public static IEnumerable<PackItem> FromTable(string csvOrTsv)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(csvOrTsv);
        return FromTableCore(Path.GetFullPath(csvOrTsv));
    }

    /// <summary>
    /// The images (jpg, jpeg, png, webp, bmp, gif) in the subfolders of <paramref name="root"/>, each labelled with
    /// its subfolder's name and without caption; folders and files in ordinal order. Keys are
    /// <c>{label}/{file name without extension}</c>.
    /// </summary>
    public static IEnumerable<PackItem> FromClassFolders(string root)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(root);
        if (!Directory.Exists(root))
        {
            throw new DirectoryNotFoundException($"No folder {root}.");
        }
        return FromClassFoldersCore(Path.GetFullPath(root));
    }

    private static IEnumerable<PackItem> FromCocoCore(string captionsJson, string imageDirectory,
        ISet<int>? licenses, int captionsPerImage)
    {
        IReadOnlyList<CocoImage> images = ReadCocoImages(captionsJson, licenses);
        ILookup<long, string> captions = ReadCocoCaptions(captionsJson);
        foreach (CocoImage image in images)
        {
            string[] chosen = [.. captions[image.Id].Take(captionsPerImage)];
            if (chosen.Length == 0)
            {
                continue;
            }
            byte[] bytes = File.ReadAllBytes(Path.Combine(imageDirectory, image.FileName));
            string stem = Path.GetFileNameWithoutExtension(image.FileName);
            for (int k = 0; k < chosen.Length; k++)
            {
                yield return new PackItem($"{stem}_{k}", bytes, chosen[k], null, image.FileName);
            }
        }
    }

    private static ILookup<long, string> ReadCocoCaptions(string captionsJson)
    {
        using JsonDocument document = JsonDocument.Parse(File.ReadAllBytes(captionsJson));
        return document.RootElement.GetProperty("annotations").EnumerateArray()
            .Select(a => (Image: a.GetProperty("image_id").GetInt64(), Caption: a.GetProperty("caption").GetString()))
            .Where(a => a.Caption is not null)
            .ToLookup(a => a.Image, a => a.Caption!.Trim());
    }

    private static IEnumerable<PackItem> FromTableCore(string table)
    {
        string folder = Path.GetDirectoryName(table)!;

        // A quote never closed swallows the rest of the table into one field: the table is refused, naming the line
        // where the quoted field starts. Other stray quotes (`a "b" c` unquoted) are kept as text.
        long unclosedQuoteLine = 0;
        var options = new CsvReaderOptions
        {
            Separator = table.EndsWith(".tsv", StringComparison.OrdinalIgnoreCase) ? '\t' : ',',
            HasHeader = true,

            // Messages name the file's line, header and lines inside quoted captions counted, as an editor shows it.
            TrackLineNumbers = true,
            OnMalformedRecord = record =>
            {
                if (record.Reason == CsvMalformedReason.UnterminatedQuote)
                {
                    unclosedQuoteLine = record.LineNumber;
                }
            },
        };
        using CsvReader csv = CsvReader.FromFile(table, options, FileOptions.SequentialScan);
        int imageColumn = -1, captionColumn = -1, labelColumn = -1;
        for (int row = 0; csv.Read(); row++)
        {
            if (unclosedQuoteLine > 0)
            {
                throw new InvalidDataException(
                    $"{table}, line {unclosedQuoteLine}: a quote opened on this line is never closed.");
            }
            if (row == 0)
            {
                imageColumn = FindHeader(csv.Headers, ImageHeaders, table, required: true);
                captionColumn = FindHeader(csv.Headers, CaptionHeaders, table, required: false);
                labelColumn = FindHeader(csv.Headers, ["label"], table, required: false);
            }
            string image = csv.GetStringOrNull(imageColumn) ?? "";
            if (image.Length == 0)
            {
                throw new InvalidDataException($"{table}, line {csv.LineNumber}: the image path is empty.");
            }
            string key = $"{Path.GetFileNameWithoutExtension(image)}_{row}";
            string path = Path.Combine(folder, image);

            // A line short of a field (`a.jpg` under `image,caption`) would pack a sample without its caption.
            if (csv.FieldCount < csv.Headers.Count)
            {
                yield return new PackItem(key, [], null, null, image)
                {
                    Problem = $"{table}, line {csv.LineNumber}: the line has {csv.FieldCount} of the header's " +
                        $"{csv.Headers.Count} fields ({string.Join(", ", csv.Headers.Skip(csv.FieldCount))} missing)",
                    ProblemCode = PackItem.FieldsMissing,
                };
                continue;
            }

            // A row whose file is missing is one bad row, not a bad table: it is handed on with its problem.
            yield return File.Exists(path)
                ? new PackItem(key, File.ReadAllBytes(path), Field(csv, captionColumn), Field(csv, labelColumn), image)
                : new PackItem(key, [], Field(csv, captionColumn), Field(csv, labelColumn), image)
                {
                    Problem = $"{table}, line {csv.LineNumber}: there is no file {path}",
                };
        }
    }

    private static string? Field(CsvReader csv, int column) =>
        column < 0 || column >= csv.FieldCount || csv.GetStringOrNull(column) is not { Length: > 0 } value
            ? null
            : value;

    private static int FindHeader(IReadOnlyList<string> header, string[] names, string table, bool required)
    {
        int found = names
            .Select(n => header.ToList().FindIndex(h => string.Equals(h.Trim(), n, StringComparison.OrdinalIgnoreCase)))
            .FirstOrDefault(i => i >= 0, -1);
        if (found < 0 && required)
        {
            throw new InvalidDataException(
                $"{table}: the header ({string.Join(", ", header)}) has none of {string.Join(", ", names)}.");
        }
        return found;
    }

    private static IEnumerable<PackItem> FromClassFoldersCore(string root)
    {
        foreach (string folder in Directory.GetDirectories(root).Order(StringComparer.Ordinal))
        {
            string label = Path.GetFileName(folder);
            IEnumerable<string> files = Directory.GetFiles(folder)
                .Where(f => ImageExtensions.Contains(Path.GetExtension(f), StringComparer.OrdinalIgnoreCase))
                .Order(StringComparer.Ordinal);
            foreach (string file in files)
            {
                string name = Path.GetFileName(file);
                yield return new PackItem($"{label}/{Path.GetFileNameWithoutExtension(name)}",
                    File.ReadAllBytes(file), null, label, $"{label}/{name}");
            }
        }
    }
}
