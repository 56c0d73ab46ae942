using DataflowContrastive.Host.Pipelines;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace DataflowContrastive.Host.Running;

/// <summary>How <c>dfc run</c> was asked to run, beyond what the pipeline file says.</summary>
public sealed class RunOptions
{
    /// <summary>Resume from a checkpoint even when it was made from other data or settings.</summary>
    public bool ResumeAnyway { get; init; }
}

/// <summary>The process exit code that a hosted run leaves for <c>Program</c> to return.</summary>
public sealed class RunOutcome
{
    public int ExitCode { get; set; } = 1;

    public RunSummary? Summary { get; set; }
}

/// <summary>
/// Runs one pipeline's main job inside the host, then stops the host. A stop request (Ctrl+C, SIGTERM) reaches the
/// job as cancellation: it finishes the step in progress, writes a checkpoint and exits 0.
/// </summary>
public sealed partial class PipelineRunService(
    PipelineJob job,
    RunOutcome outcome,
    IHostApplicationLifetime lifetime,
    ILogger<PipelineRunService> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        // Let the host finish starting before the long, mostly synchronous work begins.
        await Task.Yield();

        // ApplicationStopping fires inside the signal handler itself, before the host gets round to stopping this
        // service, which can take a while when training keeps the thread pool busy.
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken, lifetime.ApplicationStopping);
        try
        {
            RunSummary summary = await job.RunAsync(stop.Token);
            outcome.Summary = summary;
            outcome.ExitCode = 0;
            string state = summary.Interrupted ? "stopped early" : "finished";
            string recall = summary.Recall?.ToString() ?? "not measured";
            LogSummary(logger, state, summary.Steps, summary.SamplesTrained, summary.TotalRejected,
                summary.ExportedRows, recall, summary.Checkpoint ?? "none");
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
            outcome.ExitCode = 0;
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

    [LoggerMessage(EventId = 2, Level = LogLevel.Information,
        Message = "Run {State}: {Steps} steps, {Samples} samples trained, {Rejected} rejected, {Exported} exported; " +
                  "recall {Recall}; last checkpoint {Checkpoint}")]
    private static partial void LogSummary(ILogger logger, string state, int steps, long samples, long rejected,
        long exported, string recall, string checkpoint);

    [LoggerMessage(EventId = 3, Level = LogLevel.Warning, Message = "Run stopped before it finished.")]
    private static partial void LogStopped(ILogger logger);

    [LoggerMessage(EventId = 4, Level = LogLevel.Error, Message = "Run failed: {Reason}")]
    private static partial void LogFailed(ILogger logger, string reason, Exception? exception);
}

/// <summary>Registers the services that run one pipeline file's main job.</summary>
public static class PipelineRunServiceCollectionExtensions
{
    public static IServiceCollection AddPipelineRun(this IServiceCollection services, PipelineDefinition definition,
        RunOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(definition);
        services.AddSingleton(definition);
        services.AddSingleton(options ?? new RunOptions());
        services.AddSingleton<RunOutcome>();
        services.AddSingleton<PipelineJob>();
        services.AddHostedService<PipelineRunService>();
        services.Configure<HostOptions>(o => o.ShutdownTimeout = TimeSpan.FromMinutes(5));
        return services;
    }
}
