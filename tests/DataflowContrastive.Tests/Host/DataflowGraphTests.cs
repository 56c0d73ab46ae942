using System.Threading.Tasks.Dataflow;
using DataflowContrastive.Host.Running;

namespace DataflowContrastive.Tests.Host;

public class DataflowGraphTests
{
    private static readonly TimeSpan NoHang = TimeSpan.FromSeconds(20);

    [Fact]
    public async Task A_fault_in_the_last_block_stops_the_producer_and_is_reported_once()
    {
        using var graph = new DataflowGraph();
        var middle = graph.Add(new TransformBlock<int, int>(x => x, graph.Options(capacity: 2)));
        var last = graph.Add(new ActionBlock<int>(
            x => throw new InvalidDataException($"bad item {x}"), graph.Options(capacity: 1)));
        DataflowGraph.Link(middle, last);

        // The producer would run forever; the fault downstream must end it.
        Task run = graph.RunAsync(middle, async (head, aborted) =>
        {
            for (int i = 0; ; i++)
            {
                await head.SendAsync(i, aborted);
            }
        });

        var e = await Assert.ThrowsAsync<InvalidDataException>(() => run.WaitAsync(NoHang));
        Assert.Equal("bad item 0", e.Message);
    }

    [Fact]
    public async Task A_fault_in_the_producer_is_reported_and_the_blocks_stop()
    {
        using var graph = new DataflowGraph();
        var sink = graph.Add(new ActionBlock<int>(_ => { }, graph.Options(capacity: 1)));

        Task run = graph.RunAsync(sink, async (head, aborted) =>
        {
            await head.SendAsync(1, aborted);
            throw new IOException("disk gone");
        });

        var e = await Assert.ThrowsAsync<IOException>(() => run.WaitAsync(NoHang));
        Assert.Equal("disk gone", e.Message);
        Assert.True(sink.Completion.IsCompleted);
    }

    [Fact]
    public async Task A_graph_without_faults_delivers_every_item_in_order()
    {
        using var graph = new DataflowGraph();
        var seen = new List<int>();
        var square = graph.Add(new TransformBlock<int, int>(
            async x => { await Task.Delay(x % 3); return x * x; }, graph.Options(capacity: 4, parallelism: 4)));
        var sink = graph.Add(new ActionBlock<int>(seen.Add, graph.Options(capacity: 1)));
        DataflowGraph.Link(square, sink);

        await graph.RunAsync(square, async (head, aborted) =>
        {
            for (int i = 0; i < 50; i++)
            {
                await head.SendAsync(i, aborted);
            }
        }).WaitAsync(NoHang);

        Assert.Equal(Enumerable.Range(0, 50).Select(i => i * i), seen);
    }
}
