using System.Diagnostics;
using DataflowContrastive.Host.Pipelines;
using DataflowContrastive.Train;
using Microsoft.Extensions.Logging;

namespace DataflowContrastive.Host.Running;

/// <summary>
/// The training block's body: collate a batch into contiguous buffers, take one optimizer step, log, checkpoint.
/// It runs on one block with no parallelism, so it alone owns the model; it also measures how long it waited for
/// data between steps.
/// </summary>
public sealed partial class TrainingLoop : IDisposable
{
    private readonly PipelineDefinition _definition;
    private readonly ContrastiveTrainer _trainer;
    private readonly CheckpointStore _checkpoints;
    private readonly string _settingsJson;
    private readonly int _totalSteps;
    private readonly ILogger _logger;
    private readonly CancellationTokenSource _finished = new();
    private readonly IBatchStep _step;
    private readonly Stopwatch _sinceLog = Stopwatch.StartNew();
    private readonly Stopwatch _sinceStep = Stopwatch.StartNew();
    private readonly Stopwatch _running = Stopwatch.StartNew();
    private TimeSpan _waitedSinceLog;
    private long _samplesSinceLog;
    private readonly CancellationToken _stopping;
    private readonly RunRecorder _recorder;
    private RunProgress _progress;
    private int _savedStep = -1;
    private int _skippedInARow;

    /// <param name="progress">Where the run stands: a fresh start, or what the checkpoint it resumes from says.</param>
    /// <param name="stopping">When it fires, the loop stops after the step in progress.</param>
    public TrainingLoop(PipelineDefinition definition, ContrastiveTrainer trainer, CheckpointStore checkpoints,
        RunRecorder recorder, string settingsJson, int totalSteps, RunProgress progress, ILogger logger,
        CancellationToken stopping)
    {
        _recorder = recorder;
        _progress = progress;
        _stopping = stopping;
        _definition = definition;
        _trainer = trainer;
        _checkpoints = checkpoints;
        _settingsJson = settingsJson;
        _totalSteps = totalSteps;
        _logger = logger;
        _step = BatchSteps.For(definition, trainer);
    }

    /// <summary>Cancelled once the run has all its steps, so the producer stops reading.</summary>
    public CancellationToken Finished => _finished.Token;

    public int Steps => _trainer.Step;

    public long SamplesTrained => _progress.SamplesTrained;

    /// <summary>
    /// Called after each step, before that step's checkpoint, with the step, the samples trained and the stop token:
    /// the place for work that must see the weights of one step, such as an evaluation.
    /// </summary>
    public Func<int, long, CancellationToken, Task>? AfterStep { get; init; }

    /// <summary>Where the run stands after the last step taken.</summary>
    public RunProgress Progress => _progress;

    /// <summary>True when the run was stopped from outside before it had all its steps.</summary>
    public bool Interrupted
    {
        get => _interrupted || (_stopping.IsCancellationRequested && !_finished.IsCancellationRequested);
        private set => _interrupted = value;
    }

    private bool _interrupted;

    /// <summary>Trains on one batch; batches that arrive after the run is finished or stopped are let go.</summary>
    public async Task OnBatchAsync(PreparedSample[] batch)
    {
        ArgumentNullException.ThrowIfNull(batch);
        try
        {
            if (_stopping.IsCancellationRequested && !_finished.IsCancellationRequested)
            {
                Interrupted = true;
                return;
            }

            // The last batch of a stream can be short: it is dropped, as a drop-last loader does.
            if (_finished.IsCancellationRequested || batch.Length < _definition.Batch.Size)
            {
                return;
            }
            TimeSpan waited = _sinceStep.Elapsed;
            StageMetrics.Waited("train", waited);
            StepResult result = _step.Run(batch);
            _sinceStep.Restart();
            Advance(batch);
            CountSkipped(result);

            Report(result, waited, batch.Length);
            if (AfterStep is { } afterStep)
            {
                await afterStep(result.Step, SamplesTrained, _stopping);
            }
            if (result.Step % _definition.Checkpoint.Every == 0)
            {
                await SaveCheckpointAsync();
            }
            if (result.Step >= _totalSteps)
            {
                _finished.Cancel();
            }
            else if (_definition.Train.MaxMinutes is { } minutes && _running.Elapsed.TotalMinutes >= minutes)
            {
                // A time budget ends the run as its last step would; the schedule keeps the length it was given.
                LogTimeLimit(_logger, result.Step, _totalSteps, minutes);
                _finished.Cancel();
            }
        }
        finally
        {
            foreach (PreparedSample sample in batch)
            {
                sample.Return();
            }
        }
    }

    /// <summary>
    /// Writes a checkpoint of the current step and the run's progress, unless one was already written for it. A model
    /// with a weight that is not finite is never saved: that stops the run instead.
    /// </summary>
    public async Task<string?> SaveCheckpointAsync()
    {
        if (_savedStep == _trainer.Step)
        {
            return LastCheckpoint;
        }

        // The rejections of every sample before the checkpoint's position must outlive a crash, since a resumed run
        // does not read those samples again: their part of the rejects file is completed first.
        await _recorder.SealPartAsync(CancellationToken.None);
        if (!_trainer.ParametersAreFinite())
        {
            throw new PipelineRunException(
                $"step {_trainer.Step}: a model weight is not finite; no checkpoint is written. The newest complete " +
                $"one is {LastCheckpoint ?? "none"}; lower optimizer.learning_rate and resume from it");
        }
        LastCheckpoint = _checkpoints.Save(_trainer, _settingsJson, _progress.ToJson());
        _savedStep = _trainer.Step;
        LogCheckpoint(_logger, _trainer.Step, LastCheckpoint);
        return LastCheckpoint;
    }

    /// <summary>The newest checkpoint this loop wrote.</summary>
    public string? LastCheckpoint { get; private set; }

    public void Dispose() => _finished.Dispose();

    // The batch's last sample is the furthest point of the order that has been consumed: every sample before it was
    // trained on or rejected, so a resumed run starts right after it.
    private void Advance(PreparedSample[] batch)
    {
        PreparedSample last = batch[^1];
        _progress = _progress with
        {
            Epoch = last.Epoch,
            NextIndex = last.Index + 1,
            Pending = last.HeldBack,
            SamplesTrained = _progress.SamplesTrained + batch.Length,
            BatchKeysDigest = RunProgress.ChainDigest(_progress.BatchKeysDigest, batch.Select(s => s.Key)),
        };
    }

    private void CountSkipped(StepResult result)
    {
        _skippedInARow = result.Skipped ? _skippedInARow + 1 : 0;
        if (result.Skipped)
        {
            LogSkipped(_logger, result.Step, _skippedInARow, _definition.Train.MaxSkippedSteps);
        }
        if (_skippedInARow > _definition.Train.MaxSkippedSteps)
        {
            throw new PipelineRunException(
                $"step {result.Step}: {_skippedInARow} steps in a row had a loss or gradients that were not finite " +
                $"(train.max_skipped_steps is {_definition.Train.MaxSkippedSteps}); the newest checkpoint is " +
                $"{LastCheckpoint ?? "none"}. Lower optimizer.learning_rate, or look for broken samples");
        }
    }

    private void Report(StepResult result, TimeSpan waited, int samples)
    {
        _waitedSinceLog += waited;
        _samplesSinceLog += samples;
        if (result.Step % _definition.Train.LogEvery != 0 && result.Step != _totalSteps)
        {
            return;
        }
        double seconds = _sinceLog.Elapsed.TotalSeconds;
        // The trainer reports the logit scale 1/t, which multiplies the similarities; the log shows t itself, the
        // figure loss.temperature and the CLIP paper name.
        LogStep(_logger, result.Step, _totalSteps, result.Loss, result.LearningRate, 1 / result.Temperature,
            _samplesSinceLog / seconds, _waitedSinceLog.TotalSeconds / seconds);
        _sinceLog.Restart();
        _waitedSinceLog = TimeSpan.Zero;
        _samplesSinceLog = 0;
    }

    [LoggerMessage(EventId = 10, Level = LogLevel.Information,
        Message = "step {Step}/{TotalSteps} loss {Loss:F4} lr {LearningRate:E2} temperature {Temperature:F3} " +
                  "{SamplesPerSecond:F1} samples/s, waited for data {DataWaitShare:P0}")]
    private static partial void LogStep(ILogger logger, int step, int totalSteps, double loss, double learningRate,
        double temperature, double samplesPerSecond, double dataWaitShare);

    [LoggerMessage(EventId = 12, Level = LogLevel.Warning,
        Message = "step {Step} skipped: its loss or gradients were not finite ({InARow} in a row, at most {Limit})")]
    private static partial void LogSkipped(ILogger logger, int step, int inARow, int limit);

    [LoggerMessage(EventId = 13, Level = LogLevel.Information,
        Message = "train.max_minutes ({Minutes} min) reached at step {Step} of {TotalSteps}: the run ends here")]
    private static partial void LogTimeLimit(ILogger logger, int step, int totalSteps, double minutes);

    [LoggerMessage(EventId = 11, Level = LogLevel.Information, Message = "Checkpoint of step {Step}: {Checkpoint}")]
    private static partial void LogCheckpoint(ILogger logger, int step, string checkpoint);
}
