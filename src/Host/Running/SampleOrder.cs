using System.Runtime.CompilerServices;
using DataflowContrastive.Ingest;

namespace DataflowContrastive.Host.Running;

/// <summary>A raw sample with its place in the run: the epoch, and its index in that epoch's sample order.</summary>
public sealed record OrderedSample(int Epoch, long Index, RawSample Raw);

/// <summary>
/// The order in which a run sees its samples: a pure function of the seed and the shard list. Each epoch visits the
/// shards in a seeded shuffled order, streams their rows through a seeded shuffle buffer (bounded memory, as
/// webdataset does), and numbers the samples it yields. Decoding may run in parallel downstream as long as it keeps
/// this order.
/// </summary>
public sealed class SampleOrder
{
    private readonly IReadOnlyList<string> _shards;
    private readonly Func<string, CancellationToken, IAsyncEnumerable<RawSample>> _read;
    private readonly long _seed;
    private readonly int _bufferSize;
    private readonly bool _shuffle;
    private readonly Func<RawSample, bool>? _keep;

    /// <param name="shards">The shard list, already in its canonical (sorted) order.</param>
    /// <param name="read">Reads one shard's rows in file order.</param>
    /// <param name="seed">The run's seed.</param>
    /// <param name="bufferSize">Samples held by the shuffle buffer.</param>
    /// <param name="shuffle">False for export and evaluation: shards and rows in file order.</param>
    /// <param name="keep">
    /// When given, only rows it accepts enter the order, before shuffling and numbering: training leaves out the
    /// held-out rows this way (see <see cref="HoldoutSplit"/>).
    /// </param>
    public SampleOrder(IReadOnlyList<string> shards, Func<string, CancellationToken, IAsyncEnumerable<RawSample>> read,
        long seed, int bufferSize, bool shuffle, Func<RawSample, bool>? keep = null)
    {
        ArgumentNullException.ThrowIfNull(shards);
        ArgumentNullException.ThrowIfNull(read);
        ArgumentOutOfRangeException.ThrowIfLessThan(bufferSize, 1);
        _shards = shards;
        _read = read;
        _seed = seed;
        _bufferSize = bufferSize;
        _shuffle = shuffle;
        _keep = keep;
    }

    /// <summary>The shard list, in its canonical order.</summary>
    public IReadOnlyList<string> Shards => _shards;

    /// <summary>
    /// The samples of one epoch. A shard that fails is reported to <paramref name="onShardFailure"/> and skipped;
    /// the rows it delivered before failing stay in the order.
    /// </summary>
    public async IAsyncEnumerable<OrderedSample> EpochAsync(int epoch,
        Func<ShardException, ValueTask> onShardFailure, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(onShardFailure);
        var random = new Random(EpochSeed(epoch));
        long index = 0;
        var buffer = new List<RawSample>(_shuffle ? _bufferSize : 1);

        foreach (string shard in ShardsFor(random))
        {
            await foreach (RawSample sample in ReadGuardedAsync(shard, onShardFailure, cancellationToken))
            {
                if (_keep is not null && !_keep(sample))
                {
                    continue;
                }
                if (!_shuffle)
                {
                    yield return new OrderedSample(epoch, index++, sample);
                    continue;
                }
                if (buffer.Count < _bufferSize)
                {
                    buffer.Add(sample);
                    continue;
                }
                int pick = random.Next(buffer.Count);
                yield return new OrderedSample(epoch, index++, buffer[pick]);
                buffer[pick] = sample;
            }
        }

        // Drain what the buffer holds, still in a seeded order.
        while (buffer.Count > 0)
        {
            int pick = random.Next(buffer.Count);
            yield return new OrderedSample(epoch, index++, buffer[pick]);
            buffer[pick] = buffer[^1];
            buffer.RemoveAt(buffer.Count - 1);
        }
    }

    // System.Random with an explicit seed is deterministic; the seed mixes the run's seed and the epoch.
    private int EpochSeed(int epoch) => unchecked((int)(_seed * 1_000_003 + epoch * 7919 + (_seed >> 32)));

    private IEnumerable<string> ShardsFor(Random random)
    {
        if (!_shuffle)
        {
            return _shards;
        }
        string[] order = [.. _shards];
        random.Shuffle(order);
        return order;
    }

    // An async iterator cannot yield inside try/catch, so the enumerator is advanced by hand.
    private async IAsyncEnumerable<RawSample> ReadGuardedAsync(string shard, Func<ShardException, ValueTask> onFailure,
        [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        IAsyncEnumerator<RawSample> rows = _read(shard, cancellationToken).GetAsyncEnumerator(cancellationToken);
        try
        {
            while (true)
            {
                ShardException? failure = null;
                bool more;
                try
                {
                    more = await rows.MoveNextAsync();
                }
                catch (ShardException e)
                {
                    failure = e;
                    more = false;
                }
                if (failure is not null)
                {
                    await onFailure(failure);
                }
                if (!more)
                {
                    yield break;
                }
                yield return rows.Current;
            }
        }
        finally
        {
            await rows.DisposeAsync();
        }
    }
}
