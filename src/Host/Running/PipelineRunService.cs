using DataflowContrastive.Host.Pipelines;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace DataflowContrastive.Host.Running;

/// <summary>
/// Runs one pipeline's main job inside the host. A stop request reaches the training as cancellation: it finishes
/// the step in progress, writes a checkpoint and exits 0; a stop during the final export exits 130.
/// </summary>
public sealed partial class PipelineRunService(
    PipelineJob job,
    PipelineDefinition definition,
    RunOutcome outcome,
    IHostApplicationLifetime lifetime,
    ILogger<PipelineRunService> logger) : JobService(outcome, lifetime, logger)
{
    protected override PipelineDefinition Definition => definition;

    protected override int StoppedExitCode => 130;

    protected override Task<RunSummary> RunJobAsync(CancellationToken stopping) => job.RunAsync(stopping);

    protected override void LogEnded(RunSummary summary)
    {
        string state = summary.Interrupted ? "stopped early" : "finished";
        string recall = summary.Recall?.ToString() ?? "not measured";
        LogSummary(logger, state, summary.Steps, summary.SamplesTrained, summary.TotalRejected,
            summary.ExportedRows, recall, summary.Checkpoint ?? "none");
    }

    [LoggerMessage(EventId = 2, Level = LogLevel.Information,
        Message = "Run {State}: {Steps} steps, {Samples} samples trained, {Rejected} rejected, {Exported} exported; " +
                  "recall {Recall}; last checkpoint {Checkpoint}")]
    private static partial void LogSummary(ILogger logger, string state, int steps, long samples, long rejected,
        long exported, string recall, string checkpoint);
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
