using DataflowContrastive.Host.Pipelines;
using DataflowContrastive.Host.Running;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace DataflowContrastive.Host.Export;

/// <summary>
/// Runs an export pipeline's job inside the host, then stops the host. A stop request (Ctrl+C, SIGTERM) cancels the
/// export; the shards finished by then stay listed in the manifest.
/// </summary>
public sealed partial class ExportRunService(
    ExportJob job,
    PipelineDefinition definition,
    RunOutcome outcome,
    IHostApplicationLifetime lifetime,
    ILogger<ExportRunService> logger) : JobService(outcome, lifetime, logger)
{
    protected override PipelineDefinition Definition => definition;

    protected override int StoppedExitCode => 130;

    protected override Task<RunSummary> RunJobAsync(CancellationToken stopping) => job.RunAsync(stopping);

    protected override void LogEnded(RunSummary summary)
    {
        string recall = summary.Recall?.ToString() ?? "not measured";
        LogSummary(logger, summary.ExportedRows, summary.ExportImagesPerSecond ?? 0, summary.TotalRejected,
            recall, summary.ExportManifest ?? "none");
    }

    [LoggerMessage(EventId = 22, Level = LogLevel.Information,
        Message = "Export finished: {Exported} rows at {ImagesPerSecond:F1} images/s, {Rejected} rejected; " +
                  "recall {Recall}; manifest {Manifest}")]
    private static partial void LogSummary(ILogger logger, long exported, double imagesPerSecond, long rejected,
        string recall, string manifest);
}

/// <summary>Registers the services that run one export pipeline.</summary>
public static class ExportRunServiceCollectionExtensions
{
    /// <summary>Adds the export job of <paramref name="definition"/> as the host's one hosted service.</summary>
    public static IServiceCollection AddExportRun(this IServiceCollection services, PipelineDefinition definition)
    {
        ArgumentNullException.ThrowIfNull(definition);
        services.AddSingleton(definition);
        services.AddSingleton<RunOutcome>();
        services.AddSingleton<ExportJob>();
        services.AddHostedService<ExportRunService>();
        return services;
    }
}
