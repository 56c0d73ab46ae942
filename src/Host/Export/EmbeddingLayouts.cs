using System.Globalization;
using DataflowContrastive.Host.Pipelines;
using Parquet.Serialization;

namespace DataflowContrastive.Host.Export;

/// <summary>The model an export ran: its step and the SHA-256 of its weights in safetensors form.</summary>
/// <param name="Step">Training steps the model had taken.</param>
/// <param name="Fingerprint">See <see cref="DataflowContrastive.Train.Safetensors.Fingerprint"/>.</param>
/// <param name="Checkpoint">The checkpoint folder it was loaded from, or that its run just wrote; else null.</param>
public sealed record ExportedModel(int Step, string Fingerprint, string? Checkpoint);

/// <summary>How a finished group of rows becomes files in the export directory.</summary>
public interface IEmbeddingLayout
{
    /// <summary>
    /// Writes output shard <paramref name="number"/>. Each file is written under a temporary name and renamed when
    /// complete. Returns the files' paths relative to the export directory.
    /// </summary>
    Task<IReadOnlyList<string>> WriteShardAsync(int number, IReadOnlyList<ExportedSample> rows,
        CancellationToken cancellationToken);
}

/// <summary>
/// Writes files whole or not at all: under a temporary name, flushed to disk, then renamed. The temporary name is
/// the writer's own, so two processes replacing one file (workers sharing an output folder) never write into the same
/// temporary file; the last rename wins.
/// </summary>
public static class AtomicFile
{
    /// <summary>Writes <paramref name="path"/> through <paramref name="write"/>; creates its folder.</summary>
    public static async Task WriteAsync(string path, Func<Stream, Task> write, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(write);
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
        string temporary = TemporaryName(path);
        await using (FileStream stream = File.Create(temporary))
        {
            await write(stream);
            await stream.FlushAsync(cancellationToken);
            stream.Flush(flushToDisk: true);
        }
        File.Move(temporary, path, overwrite: true);
    }

    /// <summary>A temporary name beside <paramref name="path"/> that no other writer uses, ending in <c>.tmp</c>.
    /// </summary>
    public static string TemporaryName(string path) =>
        $"{path}.{Environment.ProcessId}-{Guid.NewGuid().ToString("N")[..8]}.tmp";
}

/// <summary>
/// Parquet embedding shards <c>embeddings-00000.parquet</c> onwards: <c>key</c>, <c>caption</c>, <c>label</c>, the
/// embeddings as float lists of one width, and <c>step</c>; the step and the model's fingerprint are also in each
/// file's key-value metadata.
/// </summary>
public sealed class ParquetEmbeddingLayout(string directory, ExportEmbeddings embeddings, ExportedModel model)
    : IEmbeddingLayout
{
    /// <summary>Key-value metadata key of the model's step.</summary>
    public const string StepKey = "dataflowcontrastive.step";

    /// <summary>Key-value metadata key of the model's fingerprint.</summary>
    public const string FingerprintKey = "dataflowcontrastive.checkpoint_fingerprint";

    /// <inheritdoc/>
    public async Task<IReadOnlyList<string>> WriteShardAsync(int number, IReadOnlyList<ExportedSample> rows,
        CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(rows);
        string name = $"embeddings-{number:D5}.parquet";
        var metadata = new Dictionary<string, string>
        {
            [StepKey] = model.Step.ToString(CultureInfo.InvariantCulture),
            [FingerprintKey] = model.Fingerprint,
        };
        await AtomicFile.WriteAsync(Path.Combine(directory, name), stream => embeddings switch
        {
            ExportEmbeddings.Both => ParquetSerializer.SerializeAsync(rows.Select(Both), stream, null, metadata,
                cancellationToken),
            ExportEmbeddings.Image => ParquetSerializer.SerializeAsync(rows.Select(ImageOnly), stream, null, metadata,
                cancellationToken),
            _ => ParquetSerializer.SerializeAsync(rows.Select(TextOnly), stream, null, metadata, cancellationToken),
        }, cancellationToken);
        return [name];
    }

    private EmbeddingRow Both(ExportedSample s) => new()
    {
        Key = s.Key, Caption = s.Caption, Label = s.Label, ImageEmbedding = s.Image!, TextEmbedding = s.Text!,
        Step = model.Step,
    };

    private ImageEmbeddingRow ImageOnly(ExportedSample s) => new()
    {
        Key = s.Key, Caption = s.Caption, Label = s.Label, ImageEmbedding = s.Image!, Step = model.Step,
    };

    private TextEmbeddingRow TextOnly(ExportedSample s) => new()
    {
        Key = s.Key, Caption = s.Caption, Label = s.Label, TextEmbedding = s.Text!, Step = model.Step,
    };
}

/// <summary>
/// clip-retrieval's layout, which autofaiss and clip-retrieval's back end read: <c>img_emb/img_emb_N.npy</c> and
/// <c>text_emb/text_emb_N.npy</c> (rows x width, float16, each row L2-normalised) and
/// <c>metadata/metadata_N.parquet</c> (<c>key</c>, <c>caption</c>, <c>label</c>), row i of each describing the same
/// sample.
/// </summary>
public sealed class ClipRetrievalLayout(string directory, ExportEmbeddings embeddings) : IEmbeddingLayout
{
    /// <inheritdoc/>
    public async Task<IReadOnlyList<string>> WriteShardAsync(int number, IReadOnlyList<ExportedSample> rows,
        CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(rows);
        var written = new List<string>();
        if (embeddings != ExportEmbeddings.Text)
        {
            written.Add(await WriteNpyAsync($"img_emb/img_emb_{number}.npy", rows, s => s.Image!, cancellationToken));
        }
        if (embeddings != ExportEmbeddings.Image)
        {
            written.Add(await WriteNpyAsync($"text_emb/text_emb_{number}.npy", rows, s => s.Text!,
                cancellationToken));
        }

        // The metadata goes last: a reader that finds it can rely on the embeddings beside it.
        string metadata = $"metadata/metadata_{number}.parquet";
        await AtomicFile.WriteAsync(Path.Combine(directory, metadata), stream => ParquetSerializer.SerializeAsync(
            rows.Select(s => new EmbeddingMetadataRow { Key = s.Key, Caption = s.Caption, Label = s.Label }),
            stream, cancellationToken: cancellationToken), cancellationToken);
        written.Add(metadata);
        return written;
    }

    private async Task<string> WriteNpyAsync(string name, IReadOnlyList<ExportedSample> rows,
        Func<ExportedSample, float[]> select, CancellationToken cancellationToken)
    {
        int width = select(rows[0]).Length;
        var values = new float[rows.Count * width];
        for (int i = 0; i < rows.Count; i++)
        {
            Normalise(select(rows[i]), values.AsSpan(i * width, width));
        }
        await AtomicFile.WriteAsync(Path.Combine(directory, name), stream =>
        {
            Npy.WriteFloat16(stream, values, rows.Count, width);
            return Task.CompletedTask;
        }, cancellationToken);
        return name;
    }

    // The model's embeddings are already unit length in float32; normalising again in double makes the float16
    // rows as close to unit length as float16 allows.
    private static void Normalise(float[] embedding, Span<float> into)
    {
        double norm = Math.Sqrt(embedding.Sum(x => (double)x * x));
        for (int i = 0; i < embedding.Length; i++)
        {
            into[i] = norm > 0 ? (float)(embedding[i] / norm) : 0f;
        }
    }
}
