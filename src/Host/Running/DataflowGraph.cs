using System.Runtime.ExceptionServices;
using System.Threading.Tasks.Dataflow;

namespace DataflowContrastive.Host.Running;

/// <summary>
/// The life of one linear dataflow graph: a producer feeding the first block, completion flowing down the links,
/// and one rule for faults. When any block or the producer fails, every block is cancelled so nothing waits on a
/// consumer that is gone, and the first real fault is rethrown once everything has stopped. Cancellation that
/// follows a fault is not reported as a failure of its own.
/// </summary>
public sealed class DataflowGraph : IDisposable
{
    private readonly CancellationTokenSource _abort = new();
    private readonly List<IDataflowBlock> _blocks = [];
    private Exception? _firstFault;

    /// <summary>Cancelled when a fault tears the graph down; every block and the producer take it.</summary>
    public CancellationToken Aborted => _abort.Token;

    /// <summary>Options bounded to <paramref name="capacity"/> messages and tied to <see cref="Aborted"/>.</summary>
    public ExecutionDataflowBlockOptions Options(int capacity, int parallelism = 1) => new()
    {
        BoundedCapacity = capacity,
        MaxDegreeOfParallelism = parallelism,
        EnsureOrdered = true,
        CancellationToken = _abort.Token,
    };

    public GroupingDataflowBlockOptions GroupingOptions(int capacity) => new()
    {
        BoundedCapacity = capacity,
        Greedy = true,
        CancellationToken = _abort.Token,
    };

    /// <summary>Adds a block to the graph, so that its fault tears the whole graph down.</summary>
    public T Add<T>(T block)
        where T : IDataflowBlock
    {
        ArgumentNullException.ThrowIfNull(block);
        _blocks.Add(block);
        block.Completion.ContinueWith(t => Fail(t.Exception!.GetBaseException()), CancellationToken.None,
            TaskContinuationOptions.OnlyOnFaulted | TaskContinuationOptions.ExecuteSynchronously,
            TaskScheduler.Default);
        return block;
    }

    /// <summary>Links two blocks in order, passing completion and faults downstream.</summary>
    public static void Link<T>(ISourceBlock<T> source, ITargetBlock<T> target) =>
        source.LinkTo(target, new DataflowLinkOptions { PropagateCompletion = true });

    /// <summary>
    /// Runs <paramref name="produce"/> into <paramref name="head"/>, completes the head when the producer is done,
    /// and waits for every block. Throws the first fault, if any.
    /// </summary>
    public async Task RunAsync<T>(ITargetBlock<T> head, Func<ITargetBlock<T>, CancellationToken, Task> produce)
    {
        ArgumentNullException.ThrowIfNull(head);
        ArgumentNullException.ThrowIfNull(produce);
        try
        {
            await produce(head, _abort.Token);
            head.Complete();
        }
        catch (OperationCanceledException) when (_abort.IsCancellationRequested)
        {
            // A block failed and cancelled the producer; that fault is the one to report.
        }
        catch (Exception e)
        {
            Fail(e);
        }

        try
        {
            await Task.WhenAll(_blocks.Select(b => b.Completion));
        }
        catch (Exception) when (_firstFault is not null || _abort.IsCancellationRequested)
        {
            // Reported below as the first fault.
        }

        if (_firstFault is not null)
        {
            ExceptionDispatchInfo.Throw(_firstFault);
        }
    }

    public void Dispose() => _abort.Dispose();

    private void Fail(Exception fault)
    {
        if (fault is OperationCanceledException && _abort.IsCancellationRequested)
        {
            return;
        }
        Interlocked.CompareExchange(ref _firstFault, fault, null);
        try
        {
            _abort.Cancel();
        }
        catch (ObjectDisposedException)
        {
            // The graph has already been torn down and reported; a late fault has nothing left to stop.
        }
    }
}
