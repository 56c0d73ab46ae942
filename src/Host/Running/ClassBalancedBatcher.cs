using System.Diagnostics;

namespace DataflowContrastive.Host.Running;

/// <summary>
/// Forms the class-balanced batches of <c>mode: supcon</c> from the ordered stream of prepared samples: P classes
/// with K samples each. Samples wait, per class, until P classes hold K each; those P·K samples (each class's K
/// oldest) are then a batch.
/// </summary>
/// <remarks>
/// <para>
/// The batches are a pure function of the sample order, which is itself fixed by the seed and the epoch, so they
/// never depend on threads or timing. Within a batch the samples are in stream order, so the sample that completed
/// it comes last; it carries the indices of the samples still waiting in <see cref="PreparedSample.HeldBack"/>.
/// </para>
/// <para>
/// Exact resume: a checkpoint records the position after the batch's last sample and the waiting indices. A resumed
/// run skips every earlier sample except those, which come back in the same order and wait again. Since no batch could
/// be formed from the waiting samples, none can be formed from any part of them either, so the state after the
/// replay is the state at the checkpoint.
/// </para>
/// <para>
/// A class with fewer than K samples in an epoch never completes a batch and is skipped, as are the samples still
/// waiting when the epoch ends: each epoch starts empty. No sample is drawn twice, so no batch holds a duplicate.
/// The waiting samples hold their decoded views in memory, which stays small while the stream is shuffled and the
/// classes are about equally common.
/// </para>
/// </remarks>
public sealed class ClassBalancedBatcher
{
    private readonly int _classes;
    private readonly int _perClass;
    private readonly Dictionary<int, Queue<PreparedSample>> _waiting = [];
    private readonly List<int> _ready = [];
    private int _epoch = -1;

    /// <param name="classes">P, classes per batch.</param>
    /// <param name="perClass">K, samples of each class per batch.</param>
    public ClassBalancedBatcher(int classes, int perClass)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(classes, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(perClass, 1);
        _classes = classes;
        _perClass = perClass;
    }

    /// <summary>Samples waiting for their class to fill.</summary>
    public int Waiting => _waiting.Values.Sum(q => q.Count);

    /// <summary>Takes the next sample of the stream; returns the batch it completes, if any.</summary>
    /// <param name="sample">A sample with a label (<see cref="PreparedSample.LabelId"/> of 0 or more).</param>
    public PreparedSample[]? Add(PreparedSample sample)
    {
        ArgumentNullException.ThrowIfNull(sample);
        if (sample.LabelId < 0)
        {
            throw new ArgumentException($"Sample {sample.Key} has no label to balance on.", nameof(sample));
        }
        if (sample.Epoch != _epoch)
        {
            DropWaiting();
            _epoch = sample.Epoch;
        }

        if (!_waiting.TryGetValue(sample.LabelId, out Queue<PreparedSample>? queue))
        {
            queue = new Queue<PreparedSample>();
            _waiting.Add(sample.LabelId, queue);
        }
        queue.Enqueue(sample);
        if (queue.Count == _perClass)
        {
            _ready.Add(sample.LabelId);
        }
        return _ready.Count == _classes ? TakeBatch() : null;
    }

    private PreparedSample[] TakeBatch()
    {
        var batch = new List<PreparedSample>(_classes * _perClass);
        foreach (int label in _ready)
        {
            Queue<PreparedSample> queue = _waiting[label];
            for (int i = 0; i < _perClass; i++)
            {
                batch.Add(queue.Dequeue());
            }
        }
        _ready.RemoveAll(label => _waiting[label].Count < _perClass);
        Debug.Assert(_ready.Count < _classes, "the class that completed the batch had exactly K waiting");

        PreparedSample[] ordered = [.. batch.OrderBy(s => s.Index)];
        ordered[^1].HeldBack = [.. _waiting.Values.SelectMany(q => q).Select(s => s.Index).Order()];
        return ordered;
    }

    private void DropWaiting()
    {
        foreach (PreparedSample sample in _waiting.Values.SelectMany(q => q))
        {
            sample.Return();
        }
        _waiting.Clear();
        _ready.Clear();
    }
}
