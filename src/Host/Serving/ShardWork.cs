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
/// <param name="Rows">Samples trained on plus rows exported.</param>
/// <param name="Exported">The published entry, or null when nothing was exported.</param>
public sealed record ShardResult(bool Stopped, long Rows, IndexEntry? Exported);

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
    /// checkpoint first).
    /// </summary>
    public async Task<ShardResult> RunAsync(ShardLease lease, CancellationToken stopping)
    {
        ArgumentNullException.ThrowIfNull(lease);
        await CheckRowsAsync(lease.Path, stopping);
        string folder = ExportFolder(lease.Path, lease.ContentHash);
        string partial = Path.Combine(Definition.Export.Directory, folder + ".partial");
        if (Directory.Exists(partial))
        {
            Directory.Delete(partial, recursive: true);
        }

        RunSummary summary;
        try
        {
            summary = Definition.Kind == PipelineKind.Export
                ? await new ExportJob(pipeline.ForShard(lease.Path, 1, partial), loggers.CreateLogger<ExportJob>())
                    .RunAsync(stopping)
                : await TrainAsync(lease, partial, stopping);
        }
        catch (OperationCanceledException) when (stopping.IsCancellationRequested)
        {
            return new ShardResult(Stopped: true, 0, null);
        }
        if (summary.Interrupted)
        {
            return new ShardResult(Stopped: true, summary.SamplesTrained, null);
        }

        bool exported = Definition.Kind == PipelineKind.Export || Definition.Serve.Export;
        if (exported && summary.ExportedRows == 0)
        {
            throw new ShardRejectedException($"{lease.Path}: no row of the shard could be exported; rejections by " +
                $"reason: {string.Join(", ", summary.RejectedByReason)}");
        }
        IndexEntry? entry = exported ? Entry(lease, folder, partial, summary) : null;
        return new ShardResult(Stopped: false, summary.SamplesTrained + summary.ExportedRows, entry);
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

    // The footer says at once whether the file is a readable shard with enough rows; an I/O failure is no verdict
    // on the data and fails the pass instead, to be retried.
    private async Task CheckRowsAsync(string shard, CancellationToken cancellationToken)
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
        int needed = Definition.Kind == PipelineKind.Train ? Definition.Batch.Size : 1;
        if (rows < needed)
        {
            throw new ShardRejectedException(Definition.Kind == PipelineKind.Train
                ? $"{shard}: holds {rows} rows, fewer than one batch of {needed}"
                : $"{shard}: holds no rows");
        }
    }

    private async Task<RunSummary> TrainAsync(ShardLease lease, string partial, CancellationToken stopping)
    {
        int start = await StartStepAsync(lease, stopping);
        PipelineDefinition definition = pipeline.ForShard(lease.Path, start + Definition.Serve.StepsPerShard, partial);
        var job = new PipelineJob(definition, new RunOptions { ContinueOnNewShards = true },
            loggers.CreateLogger<PipelineJob>());
        return await job.RunAsync(stopping);
    }

    // The step a shard's training started from, kept in a small file so that a shard taken up again after a crash
    // still trains the same number of steps in all: the newest checkpoint may then be one made half-way through it.
    private async Task<int> StartStepAsync(ShardLease lease, CancellationToken cancellationToken)
    {
        string marker = Path.Combine(Definition.OutputDirectory, "serve",
            Path.GetFileName(ExportFolder(lease.Path, lease.ContentHash)) + ".json");
        if (File.Exists(marker))
        {
            using JsonDocument saved = JsonDocument.Parse(await File.ReadAllBytesAsync(marker, cancellationToken));
            return saved.RootElement.GetProperty("start_step").GetInt32();
        }
        int start = NewestCheckpointStep();
        await AtomicFile.WriteAsync(marker, s => JsonSerializer.SerializeAsync(s,
            new Dictionary<string, int> { ["start_step"] = start }, cancellationToken: cancellationToken),
            cancellationToken);
        return start;
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
