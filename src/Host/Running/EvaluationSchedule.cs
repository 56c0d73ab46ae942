using Microsoft.Extensions.Logging;

namespace DataflowContrastive.Host.Running;

/// <summary>
/// When a training run evaluates: every <c>eval.every</c> steps and once at the end. Each evaluation is logged in one
/// line and appended to the <see cref="MetricsLog"/>; a step already in the log is not evaluated again.
/// </summary>
/// <remarks>
/// An evaluation runs on the training block, between two steps, so it sees the weights of exactly one step. It draws
/// no random numbers and changes neither the weights nor the sample order, so a resumed run trains as an
/// uninterrupted one does. It is written before the checkpoint of its step: a checkpoint of an evaluation step
/// always has that step's record beside it.
/// </remarks>
public sealed partial class EvaluationSchedule
{
    private readonly Evaluator _evaluator;
    private readonly MetricsLog _log;
    private readonly int _every;
    private readonly ILogger _logger;

    /// <param name="evaluator">Measures the model.</param>
    /// <param name="log">Where the records go.</param>
    /// <param name="every">Steps between evaluations; 0 for the end only.</param>
    /// <param name="logger">Gets one line per evaluation, and a warning when the embeddings look collapsed.</param>
    public EvaluationSchedule(Evaluator evaluator, MetricsLog log, int every, ILogger logger)
    {
        ArgumentNullException.ThrowIfNull(evaluator);
        ArgumentNullException.ThrowIfNull(log);
        ArgumentNullException.ThrowIfNull(logger);
        ArgumentOutOfRangeException.ThrowIfNegative(every);
        _evaluator = evaluator;
        _log = log;
        _every = every;
        _logger = logger;
    }

    /// <summary>
    /// Evaluates after <paramref name="step"/> when it is a multiple of <c>eval.every</c>. A stop requested while it
    /// runs cuts it short without a record, and the run goes on to stop as usual.
    /// </summary>
    public async Task AfterStepAsync(int step, long samplesTrained, CancellationToken stopping)
    {
        if (_every == 0 || step % _every != 0 || _log.At(step) is not null)
        {
            return;
        }
        try
        {
            await EvaluateAsync(step, samplesTrained, stopping);
        }
        catch (OperationCanceledException) when (stopping.IsCancellationRequested)
        {
            LogCutShort(_logger, step);
        }
    }

    /// <summary>
    /// The evaluation of the run's last step: the one already recorded for it, or a new one; null when a stop cut it
    /// short, so that the run can still write its last checkpoint.
    /// </summary>
    public async Task<EvaluationRecord?> AtEndAsync(int step, long samplesTrained, CancellationToken stopping)
    {
        try
        {
            return _log.At(step) ?? await EvaluateAsync(step, samplesTrained, stopping);
        }
        catch (OperationCanceledException) when (stopping.IsCancellationRequested)
        {
            LogCutShort(_logger, step);
            return null;
        }
    }

    private async Task<EvaluationRecord> EvaluateAsync(int step, long samplesTrained,
        CancellationToken cancellationToken)
    {
        EvaluationRecord record = await _evaluator.EvaluateAsync(cancellationToken) with
        {
            Step = step,
            SamplesTrained = samplesTrained,
        };
        await _log.AppendAsync(record, CancellationToken.None);
        LogEvaluation(_logger, step, record);
        WarnIfCollapsed(record);
        return record;
    }

    // Spread evenly over the sphere, each dimension's deviation is near 1/sqrt(d); near 0, every input maps to
    // about the same point. A fifth of 1/sqrt(d) is far enough from both to flag the second.
    private void WarnIfCollapsed(EvaluationRecord record)
    {
        double expected = 1 / Math.Sqrt(Math.Max(record.SpreadDimension, 1));
        if (record.EmbeddingStdMean is { } mean && mean < expected / 5)
        {
            LogCollapsed(_logger, record.Step, mean, expected);
        }
    }

    [LoggerMessage(EventId = 40, Level = LogLevel.Information, Message = "Evaluation at step {Step}: {Figures}")]
    private static partial void LogEvaluation(ILogger logger, int step, EvaluationRecord figures);

    [LoggerMessage(EventId = 41, Level = LogLevel.Warning,
        Message = "Evaluation at step {Step}: the embeddings may have collapsed: their per-dimension standard " +
                  "deviation averages {StdMean:F4}, far below {Expected:F4} (1/sqrt(d)) of embeddings spread over " +
                  "the sphere")]
    private static partial void LogCollapsed(ILogger logger, int step, double stdMean, double expected);

    [LoggerMessage(EventId = 42, Level = LogLevel.Information,
        Message = "Evaluation at step {Step} cut short by the stop; no record for it")]
    private static partial void LogCutShort(ILogger logger, int step);
}
