using DataflowContrastive.Host.Pipelines;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace DataflowContrastive.Host.Running;

/// <summary>How <c>dfc run</c> was asked to run, beyond what the pipeline file says.</summary>
public sealed class RunOptions
{
    /// <summary>Resume from a checkpoint even when it was made from other data or settings.</summary>
    public bool ResumeAnyway { get; init; }

    /// <summary>
    /// Continue from a checkpoint made from other shards with its weights, optimizer and step, starting the new
    /// shards from their beginning (<c>dfc serve</c>); every other setting must still match.
    /// </summary>
    public bool ContinueOnNewShards { get; init; }
}

/// <summary>The process exit code that a hosted run leaves for <c>Program</c> to return.</summary>
public sealed class RunOutcome
{
    public int ExitCode { get; set; } = 1;

    public RunSummary? Summary { get; set; }
}

/// <summary>
/// Runs one job of a pipeline file inside the host, then stops the host: the life every hosted job shares. A stop
/// request (Ctrl+C, SIGTERM) reaches the job as cancellation; a job that stops cleanly returns its summary, one that
/// is cut short throws and exits with <see cref="StoppedExitCode"/>. A failure is logged once, as one error line of
/// messages; an unexpected one's stack trace is logged at Debug level. Before the job starts, its folders are created
/// and its output folder locked (<see cref="OutputFolder.Prepare"/>), so two jobs never write into one folder.
/// </summary>
public abstract partial class JobService(RunOutcome outcome, IHostApplicationLifetime lifetime, ILogger logger)
    : BackgroundService
{
    /// <summary>The pipeline whose job this is.</summary>
    protected abstract PipelineDefinition Definition { get; }

    /// <summary>The exit code when a stop request cut the job short.</summary>
    protected abstract int StoppedExitCode { get; }

    /// <summary>Runs the job to its end, or until <paramref name="stopping"/> fires.</summary>
    protected abstract Task<RunSummary> RunJobAsync(CancellationToken stopping);

    /// <summary>Logs the one line that sums up a job that ended.</summary>
    protected abstract void LogEnded(RunSummary summary);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        // Let the host finish starting before the long, mostly synchronous work begins.
        await Task.Yield();

        // ApplicationStopping fires inside the signal handler itself, before the host gets round to stopping this
        // service, which can take a while when training keeps the thread pool busy.
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken, lifetime.ApplicationStopping);
        try
        {
            using IDisposable held = OutputFolder.Prepare(Definition);
            RunSummary summary = await RunJobAsync(stop.Token);
            outcome.Summary = summary;
            outcome.ExitCode = 0;
            LogEnded(summary);
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
            outcome.ExitCode = StoppedExitCode;
            LogStopped(logger);
        }
        catch (Exception e) when (e is PipelineRunException or PipelineFileException)
        {
            LogFailed(logger, e.Message);
        }
#pragma warning disable CA1031 // The service is the last place a fault can be reported before the process exits.
        catch (Exception e)
#pragma warning restore CA1031
        {
            LogFailed(logger, ExceptionMessages.Of(e));
            LogTrace(logger, e);
        }
        finally
        {
            lifetime.StopApplication();
        }
    }

    [LoggerMessage(EventId = 3, Level = LogLevel.Warning, Message = "Stopped before the job finished.")]
    private static partial void LogStopped(ILogger logger);

    [LoggerMessage(EventId = 4, Level = LogLevel.Error, Message = "Run failed: {Reason}")]
    private static partial void LogFailed(ILogger logger, string reason);

    [LoggerMessage(EventId = 9, Level = LogLevel.Debug, Message = "The failure in full")]
    private static partial void LogTrace(ILogger logger, Exception exception);
}
