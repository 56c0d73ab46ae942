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
    RunOutcome outcome,
    IHostApplicationLifetime lifetime,
    ILogger<ExportRunService> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        await Task.Yield();
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken, lifetime.ApplicationStopping);
        try
        {
            RunSummary summary = await job.RunAsync(stop.Token);
            outcome.Summary = summary;
            outcome.ExitCode = 0;
            string recall = summary.Recall?.ToString() ?? "not measured";
            LogSummary(logger, summary.ExportedRows, summary.ExportImagesPerSecond ?? 0, summary.TotalRejected,
                recall, summary.ExportManifest ?? "none");
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
            outcome.ExitCode = 130;
            LogStopped(logger);
        }
        catch (Exception e) when (e is PipelineRunException or PipelineFileException)
        {
            LogFailed(logger, e.Message, null);
        }
#pragma warning disable CA1031 // The service is the last place a fault can be reported before the process exits.
        catch (Exception e)
#pragma warning restore CA1031
        {
            LogFailed(logger, $"{e.GetType().Name}: {e.Message}", e);
        }
        finally
        {
            lifetime.StopApplication();
        }
    }

    [LoggerMessage(EventId = 22, Level = LogLevel.Information,
        Message = "Export finished: {Exported} rows at {ImagesPerSecond:F1} images/s, {Rejected} rejected; " +
                  "recall {Recall}; manifest {Manifest}")]
    private static partial void LogSummary(ILogger logger, long exported, double imagesPerSecond, long rejected,
        string recall, string manifest);

    [LoggerMessage(EventId = 23, Level = LogLevel.Warning,
        Message = "Export stopped before it finished; the manifest lists the shards that were.")]
    private static partial void LogStopped(ILogger logger);

    [LoggerMessage(EventId = 24, Level = LogLevel.Error, Message = "Export failed: {Reason}")]
    private static partial void LogFailed(ILogger logger, string reason, Exception? exception);
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
