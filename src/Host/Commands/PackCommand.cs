using System.Globalization;
using System.Text;
using DataflowContrastive.Ingest;
using DataflowContrastive.Augment;

namespace DataflowContrastive.Host.Commands;

/// <summary>
/// <c>dfc pack</c>: turns local images with captions (a COCO captions file, a CSV/TSV table, or one folder per
/// class) into Parquet shards in the Hugging Face image layout that <c>dfc run</c> reads.
/// </summary>
public static class PackCommand
{
    private const string Usage = """
        usage: dfc pack SOURCE... --out DIR [options]

        sources (at least one; several are packed one after another):
          --coco CAPTIONS.json --images DIR   a COCO captions file and its image folder (repeatable, in pairs);
                                              ATTRIBUTION.md listing each image's Flickr URL and licence is
                                              written beside the shards
          --table FILE                        CSV or TSV (.tsv) with columns image, caption[, label]; image paths
                                              relative to the table
          --class-folders DIR                 one subfolder per class; the folder name is the label, and the
                                              caption is made from it with --caption-template

        options:
          --licenses 4,5                COCO licence ids to keep (default: all)
          --captions-per-image N        COCO captions per image, one row each (default 1)
          --rows-per-shard N            rows per shard (default 1000)
          --row-group-size N            rows per row group (default 100)
          --prefix NAME                 shard names NAME-00000.parquet, ... (default shard)
          --caption-template TEXT       caption of a class-folder image; {label} is replaced by the folder name
                                        (default "a photo of a {label}.", as CLIP's zero-shot prompts)
          --per-class N                 class folders: only the first N images of each class, in file-name order
          --skip-per-class M            class folders: leave out the first M images of each class first (default
                                        0), so that two packs can take disjoint, fixed splits
          --out DIR                     output folder

        An image file that is missing, not of a format we decode, truncated (its data ends before the image does) or
        whose header cannot be read is left out and named on standard error, and the last line counts them by
        reason; the rest is packed. Only the header and the end of each file are checked, not its pixels: an image
        damaged in between is packed, and dfc run rejects it. Width and height are the upright size, after EXIF
        orientation. A table line with fewer fields than the header is left out the same way, and a quote that is
        never closed refuses the table. A table's problems name its line (1-based, the header counted).
        """;

    // How the closing line names each reason an image was left out, in this order; another reason by its code.
    private static readonly (string Reason, string Words)[] LeftOutReasons =
    [
        (PackItem.MissingFile, "missing"),
        (PackItem.FieldsMissing, "table line short of fields"),
        (ImageRejectedException.UnsupportedFormat, "not an image format we decode"),
        (ImageRejectedException.Truncated, "truncated"),
        (ImageRejectedException.Corrupt, "unreadable header"),
        (ImageRejectedException.TooManyPixels, "too many pixels"),
    ];

    /// <summary>Runs <c>dfc pack</c> with <paramref name="args"/> (after the verb); returns the exit code.</summary>
    public static Task<int> RunAsync(string[] args, CancellationToken ct) =>
        RunAsync(args, Console.Out, Console.Error, ct);

    /// <summary>
    /// Runs <c>dfc pack</c> with <paramref name="args"/> (after the verb), writing what it did to
    /// <paramref name="output"/> and what it left out to <paramref name="error"/>; returns the exit code.
    /// </summary>
    public static async Task<int> RunAsync(string[] args, TextWriter output, TextWriter error, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(args);
        ArgumentNullException.ThrowIfNull(output);
        ArgumentNullException.ThrowIfNull(error);
        if (args.Contains("--help") || args.Contains("-h"))
        {
            await output.WriteLineAsync(Usage);
            return 0;
        }

        PackArguments parsed;
        try
        {
            CommandArguments.RefuseBlank(args);
            parsed = PackArguments.Parse(args);
        }
        catch (ArgumentException e)
        {
            await error.WriteLineAsync($"dfc pack: {e.Message}\n\n{Usage}");
            return 2;
        }

        try
        {
            return await PackAsync(parsed, output, error, ct);
        }
        catch (Exception e) when (e is IOException or InvalidDataException or UnauthorizedAccessException
            or System.Text.Json.JsonException or KeyNotFoundException)
        {
            await error.WriteLineAsync($"dfc pack: {e.Message}");
            return 1;
        }
    }

    private static async Task<int> PackAsync(PackArguments parsed, TextWriter output, TextWriter error,
        CancellationToken ct)
    {
        var packedFiles = new HashSet<string>(StringComparer.Ordinal);
        var skipped = new List<(string Reason, string Line)>();
        IEnumerable<PackItem> items = Readable(parsed.Sources(packedFiles), skipped);
        var writer = new ShardWriter(parsed.Out, parsed.WriterOptions, Measure);

        IReadOnlyList<string> shards = await writer.WriteAsync(items, ct);
        foreach ((_, string line) in skipped)
        {
            await error.WriteLineAsync(line);
        }

        if (parsed.Coco.Count > 0)
        {
            string attribution = Path.Combine(parsed.Out, "ATTRIBUTION.md");
            await File.WriteAllTextAsync(attribution, Attribution(parsed, packedFiles), ct);
            await output.WriteLineAsync($"wrote {attribution}");
        }
        await output.WriteLineAsync($"wrote {shards.Count} shard(s) to {Path.GetFullPath(parsed.Out)}" +
            LeftOut(skipped.Select(s => s.Reason)));
        return shards.Count > 0 ? 0 : 1;
    }

    // "; left out 4 images: 1 missing, 2 truncated, 1 unreadable header", or nothing when none was left out.
    private static string LeftOut(IEnumerable<string> reasons)
    {
        var counts = reasons.CountBy(r => r).ToDictionary();
        if (counts.Count == 0)
        {
            return "";
        }
        int total = counts.Values.Sum();
        IEnumerable<string> parts = LeftOutReasons
            .Concat(counts.Keys.Order(StringComparer.Ordinal).Select(r => (Reason: r, Words: r)))
            .DistinctBy(r => r.Reason)
            .Where(r => counts.ContainsKey(r.Reason))
            .Select(r => $"{counts[r.Reason]} {r.Words}");
        return $"; left out {total} image{(total == 1 ? "" : "s")}: {string.Join(", ", parts)}";
    }

    // Leaves out, and notes with its reason, each image that is missing or whose header or end the decoder rejects:
    // packing goes on with the rest.
    private static IEnumerable<PackItem> Readable(IEnumerable<PackItem> items, List<(string, string)> skipped)
    {
        foreach (PackItem item in items)
        {
            (string Reason, string Message)? problem = item.Problem is { } itemProblem
                ? (item.ProblemCode, itemProblem)
                : HeaderProblem(item.Image);
            if (problem is null)
            {
                yield return item;
            }
            else
            {
                skipped.Add((problem.Value.Reason,
                    $"dfc pack: left out '{item.Key}' ({item.Path}): {problem.Value.Message}"));
            }
        }
    }

    private static (string Reason, string Message)? HeaderProblem(byte[] image)
    {
        try
        {
            _ = ImageDecoder.Probe(image);
            return null;
        }
        catch (ImageRejectedException e)
        {
            return (e.Reason, e.Message);
        }
    }

    // Reads the header only: the upright width and height, after EXIF orientation, as a decoded image has them.
    private static (int Width, int Height) Measure(byte[] image)
    {
        ImageHeader header = ImageDecoder.Probe(image);
        return (header.Width, header.Height);
    }

    private static string Attribution(PackArguments parsed, HashSet<string> packedFiles)
    {
        var text = new StringBuilder();
        text.AppendLine("# Attribution").AppendLine()
            .AppendLine("The images in these shards are photographs from the COCO 2017 dataset, published on Flickr by")
            .AppendLine("their authors under the licences listed below; each is stored unchanged. The captions are")
            .AppendLine("COCO's, under the Creative Commons Attribution 4.0 License")
            .AppendLine("(https://creativecommons.org/licenses/by/4.0/).").AppendLine()
            .AppendLine("| file | Flickr URL | licence | licence URL |")
            .AppendLine("|---|---|---|---|");
        foreach ((string json, _) in parsed.Coco)
        {
            foreach (CocoImage image in PackSources.ReadCocoImages(json, parsed.Licenses))
            {
                if (packedFiles.Contains(image.FileName))
                {
                    text.AppendLine(CultureInfo.InvariantCulture,
                        $"| {image.FileName} | {image.FlickrUrl} | {image.LicenseName} | {image.LicenseUrl} |");
                }
            }
        }
        return text.ToString();
    }

    /// <summary>
    /// The parsed command line of <c>dfc pack</c>; <see cref="Parse"/> throws ArgumentException on a mistake.
    /// </summary>
    private sealed class PackArguments
    {
        public List<(string Json, string Images)> Coco { get; } = [];

        public List<string> Tables { get; } = [];

        public List<string> ClassFolders { get; } = [];

        public HashSet<int>? Licenses { get; private set; }

        public int CaptionsPerImage { get; private set; } = 1;

        public string CaptionTemplate { get; private set; } = "a photo of a {label}.";

        public int? PerClass { get; private set; }

        public int SkipPerClass { get; private set; }

        public string Out { get; private set; } = "";

        public ShardWriterOptions WriterOptions { get; private set; } = new();

        public static PackArguments Parse(string[] args)
        {
            var parsed = new PackArguments();
            var images = new List<string>();
            var jsons = new List<string>();
            int rowsPerShard = new ShardWriterOptions().RowsPerShard;
            int rowGroupSize = new ShardWriterOptions().RowGroupSize;
            string prefix = new ShardWriterOptions().Prefix;

            for (int i = 0; i < args.Length; i++)
            {
                string value = i + 1 < args.Length
                    ? args[i + 1]
                    : throw new ArgumentException($"{args[i]} needs a value.");
                switch (args[i])
                {
                    case "--coco": jsons.Add(value); break;
                    case "--images": images.Add(value); break;
                    case "--table": parsed.Tables.Add(value); break;
                    case "--class-folders": parsed.ClassFolders.Add(value); break;
                    case "--licenses": parsed.Licenses = [.. value.Split(',').Select(v => Number(args[i], v))]; break;
                    case "--captions-per-image": parsed.CaptionsPerImage = Number(args[i], value); break;
                    case "--rows-per-shard": rowsPerShard = AtLeastOne(args[i], value); break;
                    case "--row-group-size": rowGroupSize = AtLeastOne(args[i], value); break;
                    case "--prefix": prefix = value; break;
                    case "--caption-template": parsed.CaptionTemplate = value; break;
                    case "--per-class": parsed.PerClass = Number(args[i], value); break;
                    case "--skip-per-class": parsed.SkipPerClass = Number(args[i], value); break;
                    case "--out": parsed.Out = value; break;
                    default: throw new ArgumentException($"unknown option '{args[i]}'.");
                }
                i++;
            }

            if (jsons.Count != images.Count)
            {
                throw new ArgumentException("each --coco needs one --images folder, given in the same order.");
            }
            parsed.Coco.AddRange(jsons.Zip(images));
            if (parsed.Coco.Count + parsed.Tables.Count + parsed.ClassFolders.Count == 0)
            {
                throw new ArgumentException("no source: give --coco with --images, --table or --class-folders.");
            }
            if (string.IsNullOrWhiteSpace(parsed.Out))
            {
                throw new ArgumentException("--out DIR is required.");
            }
            if (parsed.CaptionsPerImage < 1)
            {
                throw new ArgumentException("--captions-per-image must be at least 1.");
            }
            if (parsed.PerClass < 1 || parsed.SkipPerClass < 0)
            {
                throw new ArgumentException("--per-class must be at least 1 and --skip-per-class at least 0.");
            }
            if (string.IsNullOrWhiteSpace(prefix) || prefix.IndexOfAny(Path.GetInvalidFileNameChars()) >= 0
                || prefix.Contains('/', StringComparison.Ordinal))
            {
                throw new ArgumentException($"--prefix must be a plain file name, without '/', was '{prefix}'.");
            }
            parsed.CheckPaths();
            // Class folders always carry labels, even when a source without labels is packed first.
            parsed.WriterOptions = new ShardWriterOptions
            {
                RowsPerShard = rowsPerShard, RowGroupSize = rowGroupSize, Prefix = prefix,
                WriteLabels = parsed.ClassFolders.Count > 0,
            };
            parsed.WriterOptions.Validate();
            return parsed;
        }

        // A file where a folder belongs, or the reverse, is told as such before anything is read or written.
        private void CheckPaths()
        {
            foreach ((string option, string path) in Tables.Select(t => ("--table", t))
                .Concat(Coco.Select(c => ("--coco", c.Json))))
            {
                if (Directory.Exists(path))
                {
                    throw new ArgumentException($"{option}: {Path.GetFullPath(path)} is a folder, not a " +
                        (option == "--table" ? "table file (CSV or TSV)." : "COCO captions file."));
                }
            }
            foreach ((string option, string path) in ClassFolders.Select(f => ("--class-folders", f))
                .Concat(Coco.Select(c => ("--images", c.Images))).Append(("--out", Out)))
            {
                if (File.Exists(path))
                {
                    throw new ArgumentException(
                        $"{option}: {Path.GetFullPath(path)} is a file; {option} names a folder.");
                }
            }
        }

        /// <summary>All items of all sources in command-line order; records each packed image's path.</summary>
        public IEnumerable<PackItem> Sources(HashSet<string> packedPaths)
        {
            IEnumerable<PackItem> all = Coco
                .SelectMany(c => PackSources.FromCocoCaptions(c.Json, c.Images, Licenses, CaptionsPerImage))
                .Concat(Tables.SelectMany(PackSources.FromTable))
                .Concat(ClassFolders.SelectMany(folder => PickPerClass(PackSources.FromClassFolders(folder)))
                    .Select(item => item with { Caption = item.Caption ?? CaptionFor(item.Label) }));
            foreach (PackItem item in all)
            {
                if (item.Path is not null)
                {
                    packedPaths.Add(item.Path);
                }
                yield return item;
            }
        }

        private string CaptionFor(string? label) =>
            CaptionTemplate.Replace("{label}", label, StringComparison.Ordinal);

        // Class folders come one class after another, files in name order: a count per label picks a fixed split.
        private IEnumerable<PackItem> PickPerClass(IEnumerable<PackItem> items)
        {
            var seen = new Dictionary<string, int>(StringComparer.Ordinal);
            foreach (PackItem item in items)
            {
                string label = item.Label ?? "";
                int position = seen[label] = seen.GetValueOrDefault(label) + 1;
                if (position > SkipPerClass && (PerClass is null || position <= (long)SkipPerClass + PerClass))
                {
                    yield return item;
                }
            }
        }

        private static int AtLeastOne(string option, string value) =>
            Number(option, value) is >= 1 and int number
                ? number
                : throw new ArgumentException($"{option} must be a whole number of at least 1, was '{value}'.");

        private static int Number(string option, string value) =>
            int.TryParse(value, NumberStyles.Integer, CultureInfo.InvariantCulture, out int number)
                ? number
                : throw new ArgumentException($"{option} takes a whole number, not '{value}'.");
    }
}
