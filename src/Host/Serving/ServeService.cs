using System.Runtime.CompilerServices;
using DataflowContrastive.Host.Ledger;
using DataflowContrastive.Host.Pipelines;
using DataflowContrastive.Host.Running;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Polly;
using Polly.Retry;

namespace DataflowContrastive.Host.Serving;

/// <summary>How <c>dfc serve</c> was started.</summary>
public sealed class ServeOptions
{
    /// <summary>The pipelines to serve, loaded and checked.</summary>
    public required IReadOnlyList<ServedPipeline> Pipelines { get; init; }

    /// <summary>Do what is pending now, then exit, instead of waiting for triggers.</summary>
    public bool Once { get; init; }

    /// <summary>This process's name in the ledgers' leases; by default machine name and process id.</summary>
    public string Worker { get; init; } = $"{Environment.MachineName}:{Environment.ProcessId}";

    /// <summary>Opens a pipeline's shard ledger; <see cref="ServeLedgers.OpenAsync"/> unless a test says otherwise.
    /// </summary>
    public Func<PipelineDefinition, TimeProvider, CancellationToken, Task<IShardLedger>> OpenLedger { get; init; } =
        ServeLedgers.OpenAsync;

    /// <summary>Retries of a failed pass with <see cref="Once"/>; without it, a failing pipeline retries for ever.
    /// </summary>
    public int OnceRetries { get; init; } = 2;
}

/// <summary>
/// Serves every pipeline side by side, each in its own loop. A pipeline whose pass fails is logged and retried with
/// Polly's exponential backoff with decorrelated jitter (from <c>serve.retry_delay_seconds</c>, growing exponentially
/// on average but not every time, at most ten minutes) and never stops the others. A failure is logged by its
/// messages (inner ones too); its stack trace is logged once per pipeline, at Debug level.
/// A stop request (SIGTERM) reaches every loop as cancellation: training finishes its step and writes a checkpoint,
/// and the process exits 0 when everything stopped within the grace period.
/// </summary>
public sealed partial class ServeService(ServeOptions options, ServeHealth health, RunOutcome outcome,
    TimeProvider time, ILoggerFactory loggers, IHostApplicationLifetime lifetime) : BackgroundService
{
    private readonly ILogger _logger = loggers.CreateLogger<ServeService>();

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        await Task.Yield();
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken, lifetime.ApplicationStopping);
        bool[] failed = await Task.WhenAll(options.Pipelines.Select(p => ServeOneAsync(p, stop.Token)));
        int failures = failed.Count(f => f);
        outcome.ExitCode = failures > 0 ? 1 : 0;
        LogEnded(_logger, stop.IsCancellationRequested ? "stopped" : "finished", failures,
            failures == 1 ? "pipeline" : "pipelines");
        lifetime.StopApplication();
    }

    // True when the pipeline gave up (only with --once, after its retries).
    private async Task<bool> ServeOneAsync(ServedPipeline pipeline, CancellationToken stopping)
    {
        var traced = new StrongBox<bool>();
        ResiliencePipeline retry = RetryPipeline(pipeline, traced);
        try
        {
            await retry.ExecuteAsync(async token =>
            {
                await using IShardLedger ledger = await options.OpenLedger(pipeline.Definition, time, token);
                var worker = new PipelineWorker(pipeline, ledger, options.Worker, time, loggers);
                await worker.ServeAsync(options.Once, () => health.Succeeded(pipeline.Name), token);
            }, stopping);
            return false;
        }
        catch (OperationCanceledException) when (stopping.IsCancellationRequested)
        {
            return false;
        }
#pragma warning disable CA1031 // A pipeline that gave up is reported here, so it does not stop the others.
        catch (Exception e)
#pragma warning restore CA1031
        {
            health.Failed(pipeline.Name, e.Message);
            LogGaveUp(_logger, pipeline.Name, ExceptionMessages.Of(e));
            TraceOnce(pipeline.Name, e, traced);
            return true;
        }
    }

    private ResiliencePipeline RetryPipeline(ServedPipeline pipeline, StrongBox<bool> traced) =>
        new ResiliencePipelineBuilder
        {
            TimeProvider = time,
        }.AddRetry(new RetryStrategyOptions
        {
            ShouldHandle = new PredicateBuilder().Handle<Exception>(e => e is not OperationCanceledException),
            MaxRetryAttempts = options.Once ? options.OnceRetries : int.MaxValue,
            BackoffType = DelayBackoffType.Exponential,
            Delay = pipeline.Definition.Serve.RetryDelay,
            MaxDelay = TimeSpan.FromMinutes(10),
            UseJitter = true,
            OnRetry = args =>
            {
                health.Failed(pipeline.Name, args.Outcome.Exception?.Message ?? "unknown");
                LogRetrying(_logger, pipeline.Name, args.AttemptNumber + 1, args.RetryDelay.TotalSeconds,
                    args.Outcome.Exception is { } e ? ExceptionMessages.Of(e) : "unknown");
                if (args.Outcome.Exception is { } failure)
                {
                    TraceOnce(pipeline.Name, failure, traced);
                }
                return ValueTask.CompletedTask;
            },
        }).Build();

    // A pass retried for hours (a database that is down) would repeat the same stack trace in every error line; the
    // messages say what failed, and one trace per pipeline, at Debug level, says where.
    private void TraceOnce(string pipeline, Exception exception, StrongBox<bool> traced)
    {
        if (!traced.Value)
        {
            traced.Value = true;
            LogTrace(_logger, pipeline, exception);
        }
    }

    [LoggerMessage(EventId = 50, Level = LogLevel.Error,
        Message = "Pipeline {Pipeline} failed (attempt {Attempt}); retrying in {Seconds:F1} s: {Reason}")]
    private static partial void LogRetrying(ILogger logger, string pipeline, int attempt, double seconds,
        string reason);

    [LoggerMessage(EventId = 51, Level = LogLevel.Error, Message = "Pipeline {Pipeline} gave up: {Reason}")]
    private static partial void LogGaveUp(ILogger logger, string pipeline, string reason);

    [LoggerMessage(EventId = 52, Level = LogLevel.Information,
        Message = "Service {State}; {Failed} {PipelineNoun} failed")]
    private static partial void LogEnded(ILogger logger, string state, int failed, string pipelineNoun);

    [LoggerMessage(EventId = 53, Level = LogLevel.Debug, Message = "Pipeline {Pipeline}: the failure in full")]
    private static partial void LogTrace(ILogger logger, string pipeline, Exception exception);
}
