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
    private readonly ClipTrainer _trainer;
    private readonly CheckpointStore _checkpoints;
    private readonly string _settingsJson;
    private readonly int _totalSteps;
    private readonly ILogger _logger;
    private readonly CancellationTokenSource _finished = new();
    private readonly float[] _images;
    private readonly long[] _tokens;
    private readonly Stopwatch _sinceLog = Stopwatch.StartNew();
    private readonly Stopwatch _sinceStep = Stopwatch.StartNew();
    private TimeSpan _waitedSinceLog;
    private long _samplesSinceLog;
    private readonly CancellationToken _stopping;
    private int _savedStep = -1;

    /// <param name="stopping">When it fires, the loop stops after the step in progress.</param>
    public TrainingLoop(PipelineDefinition definition, ClipTrainer trainer, CheckpointStore checkpoints,
        string settingsJson, int totalSteps, ILogger logger, CancellationToken stopping)
    {
        _stopping = stopping;
        _definition = definition;
        _trainer = trainer;
        _checkpoints = checkpoints;
        _settingsJson = settingsJson;
        _totalSteps = totalSteps;
        _logger = logger;
        int batch = definition.Batch.Size;
        _images = new float[batch * 3 * definition.Images.Size * definition.Images.Size];
        _tokens = new long[batch * definition.Model.ContextLength];
    }

    /// <summary>Cancelled once the run has all its steps, so the producer stops reading.</summary>
    public CancellationToken Finished => _finished.Token;

    public int Steps => _trainer.Step;

    public long SamplesTrained { get; private set; }

    /// <summary>True when the run was stopped from outside before it had all its steps.</summary>
    public bool Interrupted
    {
        get => _interrupted || (_stopping.IsCancellationRequested && !_finished.IsCancellationRequested);
        private set => _interrupted = value;
    }

    private bool _interrupted;

    /// <summary>Trains on one batch; batches that arrive after the run is finished or stopped are let go.</summary>
    public void OnBatch(PreparedSample[] batch)
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
            PreparedSample.Collate(batch, _images.Length / _definition.Batch.Size, _images, _tokens);
            StepResult result = _trainer.TrainStep(_images, _tokens, batch.Length);
            SamplesTrained += batch.Length;
            _sinceStep.Restart();

            Report(result, waited, batch.Length);
            if (result.Step % _definition.Checkpoint.Every == 0)
            {
                SaveCheckpoint();
            }
            if (result.Step >= _totalSteps)
            {
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

    /// <summary>Writes a checkpoint of the current step, unless one was already written for it.</summary>
    public string? SaveCheckpoint()
    {
        if (_savedStep == _trainer.Step)
        {
            return LastCheckpoint;
        }
        LastCheckpoint = _checkpoints.Save(_trainer, _settingsJson);
        _savedStep = _trainer.Step;
        LogCheckpoint(_logger, _trainer.Step, LastCheckpoint);
        return LastCheckpoint;
    }

    /// <summary>The newest checkpoint this loop wrote.</summary>
    public string? LastCheckpoint { get; private set; }

    public void Dispose() => _finished.Dispose();

    private void Report(StepResult result, TimeSpan waited, int samples)
    {
        _waitedSinceLog += waited;
        _samplesSinceLog += samples;
        if (result.Step % _definition.Train.LogEvery != 0 && result.Step != _totalSteps)
        {
            return;
        }
        double seconds = _sinceLog.Elapsed.TotalSeconds;
        LogStep(_logger, result.Step, _totalSteps, result.Loss, result.LearningRate, result.Temperature,
            _samplesSinceLog / seconds, _waitedSinceLog.TotalSeconds / seconds);
        _sinceLog.Restart();
        _waitedSinceLog = TimeSpan.Zero;
        _samplesSinceLog = 0;
    }

    [LoggerMessage(EventId = 10, Level = LogLevel.Information,
        Message = "step {Step}/{TotalSteps} loss {Loss:F4} lr {LearningRate:E2} temperature {Temperature:F2} " +
                  "{SamplesPerSecond:F1} samples/s, waited for data {DataWaitShare:P0}")]
    private static partial void LogStep(ILogger logger, int step, int totalSteps, double loss, double learningRate,
        double temperature, double samplesPerSecond, double dataWaitShare);

    [LoggerMessage(EventId = 11, Level = LogLevel.Information, Message = "Checkpoint of step {Step}: {Checkpoint}")]
    private static partial void LogCheckpoint(ILogger logger, int step, string checkpoint);
}
