using System.Security.Cryptography;
using System.Text.Json;
using System.Text.Json.Serialization;
using DataflowContrastive.Host.Pipelines;
using DataflowContrastive.Host.Running;

namespace DataflowContrastive.Host.Export;

/// <summary>The rows of one input shard that went into an output shard.</summary>
/// <param name="Shard">The input shard's full path.</param>
/// <param name="FirstRow">Its first row exported here.</param>
/// <param name="LastRow">Its last row exported here; rejected rows in between are not exported.</param>
/// <param name="Rows">Rows of it exported here.</param>
public sealed record ManifestSource(string Shard, long FirstRow, long LastRow, long Rows);

/// <summary>One file of an output shard and its SHA-256.</summary>
public sealed record ManifestFile(string Path, string Sha256);

/// <summary>A finished output shard.</summary>
/// <param name="Number">N in its file names.</param>
/// <param name="Rows">Rows it holds.</param>
/// <param name="FirstIndex">The export-order index of its first sample.</param>
/// <param name="LastIndex">The export-order index of its last sample; the next shard starts after it.</param>
/// <param name="Sources">The input rows it holds, by input shard.</param>
/// <param name="Files">Its files, relative to the export directory.</param>
public sealed record ManifestShard(
    int Number, long Rows, long FirstIndex, long LastIndex, IReadOnlyList<ManifestSource> Sources,
    IReadOnlyList<ManifestFile> Files);

/// <summary>
/// <c>manifest.json</c> of an export directory: the model, the layout, and every finished output shard with its row
/// count, the input rows it holds and the SHA-256 of its files. It is rewritten after each shard under a temporary
/// name and renamed, so a reader sees either the old list or the new one; a file not listed may be unfinished.
/// <c>complete</c> turns true when the export has ended. The shards' index ranges say where an export that stopped
/// would go on.
/// </summary>
public sealed class ExportManifest
{
    /// <summary>The manifest's file name.</summary>
    public const string FileName = "manifest.json";

    private static readonly JsonSerializerOptions JsonOptions = new()
    {
        WriteIndented = true,
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        Converters = { new JsonStringEnumConverter(JsonNamingPolicy.KebabCaseLower) },
    };

    private readonly string _directory;
    private readonly List<ManifestShard> _shards = [];

    /// <summary>Starts the manifest of an export into <paramref name="directory"/>; nothing is written yet.</summary>
    /// <param name="inputs">A digest of the input shards, so that a resumed export can tell they are the same.</param>
    public ExportManifest(string directory, ExportLayout layout, ExportEmbeddings embeddings, int dimension,
        ExportedModel model, string inputs = "")
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(directory);
        ArgumentNullException.ThrowIfNull(model);
        _directory = directory;
        Layout = layout;
        Embeddings = embeddings;
        Dimension = dimension;
        Model = model;
        Inputs = inputs;
    }

    /// <summary>A digest of the input shards' names, sizes and footers.</summary>
    public string Inputs { get; }

    /// <summary>
    /// The manifest to go on with: the one already in <paramref name="directory"/> when an export of the same model,
    /// layout and inputs stopped there before it completed (its finished shards are kept, and the export resumes
    /// after the last of them), else a new one. A folder whose manifest says another layout or other embeddings is
    /// refused, since writing there would mix two kinds of files in one folder.
    /// </summary>
    /// <exception cref="PipelineRunException">The folder holds an export with another layout or embeddings.
    /// </exception>
    public static async Task<ExportManifest> OpenAsync(string directory, ExportLayout layout,
        ExportEmbeddings embeddings, int dimension, ExportedModel model, string inputs,
        CancellationToken cancellationToken)
    {
        var manifest = new ExportManifest(directory, layout, embeddings, dimension, model, inputs);
        string path = manifest.Path;
        if (!File.Exists(path))
        {
            return manifest;
        }
        using JsonDocument saved = JsonDocument.Parse(await File.ReadAllBytesAsync(path, cancellationToken));
        JsonElement root = saved.RootElement;
        string Text(string name) => root.TryGetProperty(name, out JsonElement e) ? e.ToString() : "";
        RefuseOtherKind(directory, root, layout, embeddings);
        bool same = Text("format") == manifest.Format
            && Text("dimension") == dimension.ToString(System.Globalization.CultureInfo.InvariantCulture)
            && Text("inputs") == inputs
            && root.TryGetProperty("model", out JsonElement savedModel)
            && savedModel.TryGetProperty("fingerprint", out JsonElement fingerprint)
            && fingerprint.GetString() == model.Fingerprint
            && !(root.TryGetProperty("complete", out JsonElement complete) && complete.GetBoolean());
        if (same && root.TryGetProperty("shards", out JsonElement shards))
        {
            manifest._shards.AddRange(shards.Deserialize<List<ManifestShard>>(JsonOptions) ?? []);
        }
        return manifest;
    }

    /// <summary>
    /// Refuses, before any work, a folder whose manifest says another layout or other embeddings; a folder without a
    /// manifest is fine.
    /// </summary>
    /// <exception cref="PipelineRunException">The folder holds an export with another layout or embeddings.
    /// </exception>
    public static void RefuseOtherKind(string directory, ExportLayout layout, ExportEmbeddings embeddings)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(directory);
        string path = System.IO.Path.Combine(directory, FileName);
        if (File.Exists(path))
        {
            using JsonDocument saved = JsonDocument.Parse(File.ReadAllBytes(path));
            RefuseOtherKind(directory, saved.RootElement, layout, embeddings);
        }
    }

    private static void RefuseOtherKind(string directory, JsonElement root, ExportLayout layout,
        ExportEmbeddings embeddings)
    {
        string Text(string name) => root.TryGetProperty(name, out JsonElement e) ? e.ToString() : "";
        RefuseOtherSettings(directory, "layout", Text("layout"), Name(layout));
        RefuseOtherSettings(directory, "embeddings", Text("embeddings"), Name(embeddings));
    }

    private static string Name<T>(T value) => JsonSerializer.Serialize(value, JsonOptions).Trim('"');

    // Another model or other inputs start the export over in place: the same layout writes the same file names, and
    // the manifest lists only the new ones. Another layout or other embeddings would leave the old kind of files
    // beside the new, so the folder is refused instead.
    private static void RefuseOtherSettings(string directory, string key, string saved, string wanted)
    {
        if (saved.Length > 0 && saved != wanted)
        {
            throw new PipelineRunException(
                $"Export folder {directory} already holds an export with export.{key} {saved} (its {FileName}); " +
                $"this export asks for export.{key} {wanted}. Export into another folder, or delete that one.");
        }
    }

    /// <summary>The export-order index after which the export goes on: the last finished shard's last sample.</summary>
    [JsonIgnore]
    public long ResumeAfterIndex => _shards.Count == 0 ? -1 : _shards[^1].LastIndex;

    /// <summary>Names this manifest's format and its version.</summary>
    public string Format { get; } = "dataflowcontrastive-embeddings/1";

    /// <summary>How the shards are laid out.</summary>
    public ExportLayout Layout { get; }

    /// <summary>Which embeddings the shards hold.</summary>
    public ExportEmbeddings Embeddings { get; }

    /// <summary>Width of every embedding.</summary>
    public int Dimension { get; }

    /// <summary>The model that embedded the rows.</summary>
    public ExportedModel Model { get; }

    /// <summary>True once the export has ended; until then more shards may follow.</summary>
    public bool Complete { get; private set; }

    /// <summary>Rows in the finished shards.</summary>
    public long Rows => _shards.Sum(s => s.Rows);

    /// <summary>The finished shards, in order.</summary>
    public IReadOnlyList<ManifestShard> Shards => _shards;

    /// <summary>The manifest's full path.</summary>
    [JsonIgnore]
    public string Path => System.IO.Path.Combine(_directory, FileName);

    /// <summary>Records a shard whose files are all in place, and rewrites the manifest.</summary>
    public async Task AddAsync(int number, IReadOnlyList<ExportedSample> rows, IReadOnlyList<string> files,
        CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(rows);
        ArgumentNullException.ThrowIfNull(files);
        var sources = rows
            .GroupBy(r => r.Shard, StringComparer.Ordinal)
            .Select(g => new ManifestSource(g.Key, g.Min(r => r.Row), g.Max(r => r.Row), g.Count()))
            .ToList();
        var hashed = new List<ManifestFile>();
        foreach (string file in files)
        {
            await using FileStream stream = File.OpenRead(System.IO.Path.Combine(_directory, file));
            hashed.Add(new ManifestFile(file, Convert.ToHexStringLower(
                await SHA256.HashDataAsync(stream, cancellationToken))));
        }
        _shards.Add(new ManifestShard(number, rows.Count, rows[0].Index, rows[^1].Index, sources, hashed));
        await WriteAsync(cancellationToken);
    }

    /// <summary>Marks the export as ended and rewrites the manifest.</summary>
    public Task CompleteAsync(CancellationToken cancellationToken)
    {
        Complete = true;
        return WriteAsync(cancellationToken);
    }

    private Task WriteAsync(CancellationToken cancellationToken) =>
        AtomicFile.WriteAsync(Path, stream => JsonSerializer.SerializeAsync(stream, this, JsonOptions,
            cancellationToken), cancellationToken);
}
