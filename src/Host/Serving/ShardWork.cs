using System.Globalization;
using System.Text.Json;
using DataflowContrastive.Host.Export;
using DataflowContrastive.Host.Ledger;
using DataflowContrastive.Host.Pipelines;
using DataflowContrastive.Host.Running;
using DataflowContrastive.Ingest;
using Microsoft.Extensions.Logging;

namespace DataflowContrastive.Host.Serving;

/// <summary>What the work on one shard came to.</summary>
/// <param name="Stopped">A stop request cut it short; the shard stays leased until its lease expires.</param>
/// <param name="Trained">Samples trained on in this shard's steps (not since the first checkpoint).</param>
/// <param name="Exported">The published entry, or null when nothing was exported.</param>
public sealed record ShardResult(bool Stopped, long Trained, IndexEntry? Exported)
{
    /// <summary>Samples trained on plus rows exported.</summary>
    public long Rows => Trained + (Exported?.Rows ?? 0);

    /// <summary>The run's summary of this shard alone, with the paths the export has once placed; null when the
    /// work was cut short.</summary>
    public RunSummary? Summary { get; init; }

    /// <summary>Why a shard that could not train was still done (too few rows for a batch, no rows), or null.
    /// </summary>
    public string? Note { get; init; }
}

/// <summary>
/// The work on one leased shard: train the pipeline's model <c>serve.steps_per_shard</c> steps on it, continuing from
/// the newest checkpoint, and/or export its embeddings into a folder named after the shard and its content hash.
/// The export is written under a temporary folder name and renamed when complete, so a shard done again after a
/// crash replaces its folder instead of adding a second one.
/// </summary>
public sealed class ShardWork(ServedPipeline pipeline, ILoggerFactory loggers, TimeProvider time)
{
    private PipelineDefinition Definition => pipeline.Definition;

    /// <summary>The folder of a shard's embeddings, relative to the export directory.</summary>
    public static string ExportFolder(string shard, string contentHash) =>
        Path.Combine("shards", $"{Path.GetFileNameWithoutExtension(shard)}-{contentHash[..12]}");

    /// <summary>
    /// Does the work on <paramref name="lease"/>'s shard. A shard whose data cannot serve throws
    /// <see cref="ShardRejectedException"/>; a stop request returns a result marked stopped (training writes its
    /// checkpoint first). A training pipeline's shard with fewer rows than one batch is not trained on, but with
    /// <c>serve.export</c> its rows are still exported with the newest checkpoint, and the result carries a note.
    /// </summary>
    public async Task<ShardResult> RunAsync(ShardLease lease, CancellationToken stopping)
    {
        ArgumentNullException.ThrowIfNull(lease);
        (string? note, bool empty) = await CheckRowsAsync(lease.Path, stopping);
        if (empty)
        {
            // No rows is not bad data (a writer may close a shard it had nothing for): the shard is done, as a run
            // or dfc inspect takes it, with nothing to train on or export.
            return new ShardResult(Stopped: false, 0, null) { Note = $"{lease.Path}: holds no rows; nothing to do" };
        }
        string folder = ExportFolder(lease.Path, lease.ContentHash);
        string partial = Path.Combine(Definition.Export.Directory, folder + ".partial");
        if (Directory.Exists(partial))
        {
            Directory.Delete(partial, recursive: true);
        }

        RunSummary summary;
        long trained = 0;
        try
        {
            if (Definition.Kind == PipelineKind.Export || note is not null)
            {
                PipelineDefinition definition = note is null
                    ? pipeline.ForShard(lease.Path, 1, partial)
                    : pipeline.ExportOnly(lease.Path, partial);
                summary = await new ExportJob(definition, loggers.CreateLogger<ExportJob>()).RunAsync(stopping);
            }
            else
            {
                (summary, trained) = await TrainAsync(lease, partial, stopping);
            }
        }
        catch (OperationCanceledException) when (stopping.IsCancellationRequested)
        {
            return new ShardResult(Stopped: true, 0, null);
        }
        if (summary.Interrupted)
        {
            return new ShardResult(Stopped: true, trained, null);
        }
        return await FinishAsync(lease, folder, partial, summary with { SamplesTrained = trained }, note, stopping);
    }

    /// <summary>Moves a finished export from its temporary folder to its own, replacing an earlier attempt's.</summary>
    public void Place(IndexEntry entry)
    {
        ArgumentNullException.ThrowIfNull(entry);
        string final = Path.Combine(Definition.Export.Directory, entry.Directory);
        if (Directory.Exists(final))
        {
            Directory.Delete(final, recursive: true);
        }
        Directory.Move(final + ".partial", final);
    }

    /// <summary>
    /// Removes the folder of an entry that a newer one replaced in the index (the shard's content changed at the same
    /// path), unless it is the folder just published. Called once the new index is in place, so the folder is no
    /// longer listed; a reader that read the old index just before may still find it gone.
    /// </summary>
    public void Remove(IndexEntry superseded, IndexEntry published)
    {
        ArgumentNullException.ThrowIfNull(superseded);
        ArgumentNullException.ThrowIfNull(published);
        string folder = Path.Combine(Definition.Export.Directory, superseded.Directory);
        if (superseded.Directory != published.Directory && Directory.Exists(folder))
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    /// <summary>Removes the unpublished export of a shard that was rejected: nothing will ever publish it.</summary>
    public void Discard(ShardLease lease)
    {
        ArgumentNullException.ThrowIfNull(lease);
        string partial = Path.Combine(Definition.Export.Directory,
            ExportFolder(lease.Path, lease.ContentHash) + ".partial");
        if (Directory.Exists(partial))
        {
            Directory.Delete(partial, recursive: true);
        }
    }

    /// <summary>
    /// Replaces <c>OUTPUT/summary.json</c> with the summary of the shard just published: its own rejections, the
    /// samples trained in its steps, and the embedding files where they are once placed.
    /// </summary>
    public async Task WriteSummaryAsync(ShardResult result, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(result);
        if (result.Summary is { } summary)
        {
            await summary.WriteAsync(Path.Combine(Definition.OutputDirectory, "summary.json"), cancellationToken);
        }
    }

    // The run's summary counts every rejection in the output folder's rejects parts (other shards', other workers');
    // the shard is judged, and its summary written, on its own rejections alone.
    private async Task<ShardResult> FinishAsync(ShardLease lease, string folder, string partial, RunSummary summary,
        string? note, CancellationToken stopping)
    {
        string rejects = Path.Combine(Definition.OutputDirectory, "rejects");
        IReadOnlyDictionary<string, long> own = await ShardRejections.CountAsync(rejects, lease.Path, stopping);
        bool exported = Definition.Kind == PipelineKind.Export || Definition.Serve.Export;
        if (exported && summary.ExportedRows == 0)
        {
            throw new ShardRejectedException($"{lease.Path}: no row of the shard could be exported; its " +
                $"rejections by reason: {ShardRejections.Format(own)}; the rows are in {rejects}");
        }

        string final = Path.Combine(Definition.Export.Directory, folder);
        summary = summary with
        {
            RejectedByReason = own,
            EmbeddingShards = [.. summary.EmbeddingShards.Select(f => Moved(f, partial, final))],
            ExportManifest = summary.ExportManifest is { } manifest ? Moved(manifest, partial, final) : null,
        };
        IndexEntry? entry = exported ? Entry(lease, folder, partial, summary) : null;
        return new ShardResult(Stopped: false, summary.SamplesTrained, entry) { Summary = summary, Note = note };
    }

    private static string Moved(string path, string partial, string final) =>
        Path.Combine(final, Path.GetRelativePath(partial, path));

    // The footer says at once whether the file is a readable shard with enough rows; an I/O failure is no verdict
    // on the data and fails the pass instead, to be retried. Returns a note when a training pipeline's shard is too
    // small to train on but can still be exported, and whether it holds no rows at all.
    private async Task<(string? Note, bool Empty)> CheckRowsAsync(string shard, CancellationToken cancellationToken)
    {
        long rows;
        try
        {
            rows = await new ShardReader(Definition.Ingest()).CountRowsAsync(shard, cancellationToken);
        }
        catch (ShardException e) when (e.Code != ShardException.Unreadable)
        {
            // Recorded in the rejects files as a run would record it, as well as in the ledger.
            await using (RunRecorder recorder = await RunRecorder.OpenPartsAsync(
                Path.Combine(Definition.OutputDirectory, "rejects"), loggers.CreateLogger<ShardWork>(),
                cancellationToken))
            {
                await recorder.RejectShardAsync(e, cancellationToken);
            }
            throw new ShardRejectedException(e.Message, e);
        }
        if (rows == 0)
        {
            return (null, true);
        }
        int batch = Definition.Batch.Size;
        if (Definition.Kind != PipelineKind.Train || rows >= batch)
        {
            return (null, false);
        }

        // Too few rows to train on, and rightly so (a batch is never padded); its rows can still be embedded, with
        // the model as the pipeline has trained it so far.
        string small = $"{shard}: holds {rows} rows, fewer than one batch of {batch}";
        if (!Definition.Serve.Export)
        {
            throw new ShardRejectedException($"{small}, and serve.export is false");
        }
        if (NewestCheckpointStep() == 0)
        {
            throw new ShardRejectedException($"{small}, and there is no checkpoint yet to export it with");
        }
        return ($"{small}: exported with the newest checkpoint, not trained on", false);
    }

    // Returns the run's summary and the samples trained in this shard's steps (the summary counts them from the
    // pipeline's first step on).
    private async Task<(RunSummary Summary, long Trained)> TrainAsync(ShardLease lease, string partial,
        CancellationToken stopping)
    {
        (int start, long startSamples) = await StartAsync(lease, stopping);
        PipelineDefinition definition = pipeline.ForShard(lease.Path, start + Definition.Serve.StepsPerShard, partial);
        var job = new PipelineJob(definition, new RunOptions { ContinueOnNewShards = true },
            loggers.CreateLogger<PipelineJob>());
        RunSummary summary = await job.RunAsync(stopping);
        return (summary, summary.SamplesTrained - startSamples);
    }

    // The step a shard's training started from (and the samples trained by then), kept in a small file so that a
    // shard taken up again after a crash still trains the same number of steps in all: the newest checkpoint may
    // then be one made half-way through it.
    private async Task<(int Step, long Samples)> StartAsync(ShardLease lease, CancellationToken cancellationToken)
    {
        string marker = Path.Combine(Definition.OutputDirectory, "serve",
            Path.GetFileName(ExportFolder(lease.Path, lease.ContentHash)) + ".json");
        if (File.Exists(marker))
        {
            using JsonDocument saved = JsonDocument.Parse(await File.ReadAllBytesAsync(marker, cancellationToken));
            JsonElement root = saved.RootElement;
            int step = root.GetProperty("start_step").GetInt32();
            // Markers written before the count was kept hold only the step; that checkpoint's progress has it.
            return (step, root.TryGetProperty("start_samples", out JsonElement samples)
                ? samples.GetInt64()
                : SamplesAt(step));
        }
        int start = NewestCheckpointStep();
        long trained = SamplesAt(start);
        await AtomicFile.WriteAsync(marker, s => JsonSerializer.SerializeAsync(s,
            new Dictionary<string, long> { ["start_step"] = start, ["start_samples"] = trained },
            cancellationToken: cancellationToken), cancellationToken);
        return (start, trained);
    }

    // Samples trained by the checkpoint of a step, from its progress record; 0 without one.
    private long SamplesAt(int step)
    {
        string progress = Path.Combine(Definition.Checkpoint.Directory,
            string.Create(CultureInfo.InvariantCulture, $"step-{step:D8}"), "progress.json");
        return step > 0 && File.Exists(progress) ? RunProgress.FromJson(File.ReadAllText(progress)).SamplesTrained : 0;
    }

    private int NewestCheckpointStep()
    {
        string directory = Definition.Checkpoint.Directory;
        if (!Directory.Exists(directory))
        {
            return 0;
        }
        return Directory.EnumerateDirectories(directory, "step-*")
            .Select(d => int.TryParse(Path.GetFileName(d)["step-".Length..], NumberStyles.None,
                CultureInfo.InvariantCulture, out int step) ? step : -1)
            .DefaultIfEmpty(0)
            .Max();
    }

    private IndexEntry Entry(ShardLease lease, string folder, string partial, RunSummary summary)
    {
        string[] files = [.. Directory.EnumerateFiles(partial, "*", SearchOption.AllDirectories)
            .Select(f => Path.Combine(folder, Path.GetRelativePath(partial, f)))
            .Where(f => Path.GetFileName(f) != ExportManifest.FileName)
            .Order(StringComparer.Ordinal)];
        return new IndexEntry(lease.Path, lease.ContentHash, folder, summary.ExportedRows, summary.Steps, files,
            time.GetUtcNow());
    }
}
