using System.Runtime.CompilerServices;
using DataflowContrastive.Host.Running;
using DataflowContrastive.Ingest;

namespace DataflowContrastive.Tests.Host;

public class SampleOrderTests
{
    private static readonly string[] Shards = ["a", "b", "c"];

    [Fact]
    public async Task The_order_is_a_pure_function_of_the_seed_and_the_shard_list()
    {
        List<string> first = await Keys(new SampleOrder(Shards, Rows, seed: 7, bufferSize: 5, shuffle: true), 0);
        List<string> again = await Keys(new SampleOrder(Shards, Rows, seed: 7, bufferSize: 5, shuffle: true), 0);
        List<string> otherSeed = await Keys(new SampleOrder(Shards, Rows, seed: 8, bufferSize: 5, shuffle: true), 0);
        List<string> nextEpoch = await Keys(new SampleOrder(Shards, Rows, seed: 7, bufferSize: 5, shuffle: true), 1);

        Assert.Equal(first, again);
        Assert.NotEqual(first, otherSeed);
        Assert.NotEqual(first, nextEpoch);
        Assert.Equal(AllKeys().Order(StringComparer.Ordinal), first.Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task Without_shuffling_shards_and_rows_keep_file_order()
    {
        List<string> keys = await Keys(new SampleOrder(Shards, Rows, seed: 7, bufferSize: 5, shuffle: false), 0);

        Assert.Equal(AllKeys(), keys);
    }

    [Fact]
    public async Task A_failing_shard_keeps_the_rows_it_delivered_and_is_reported()
    {
        var failures = new List<ShardException>();
        var order = new SampleOrder(["a", "bad", "c"], Rows, seed: 1, bufferSize: 1, shuffle: false);

        var keys = new List<string>();
        await foreach (OrderedSample s in order.EpochAsync(0, e => { failures.Add(e); return default; }, default))
        {
            keys.Add(s.Raw.Key);
        }

        Assert.Equal(["a:0", "a:1", "a:2", "a:3", "bad:0", "bad:1", "c:0", "c:1", "c:2", "c:3"], keys);
        Assert.Equal(("bad", 2L), (Assert.Single(failures).Shard, failures[0].Row!.Value));
    }

    [Fact]
    public async Task Samples_are_numbered_within_their_epoch_without_gaps()
    {
        var order = new SampleOrder(Shards, Rows, seed: 3, bufferSize: 4, shuffle: true);
        var indices = new List<long>();
        await foreach (OrderedSample s in order.EpochAsync(2, _ => default, default))
        {
            indices.Add(s.Index);
            Assert.Equal(2, s.Epoch);
        }

        Assert.Equal(Enumerable.Range(0, 12).Select(i => (long)i), indices);
    }

    private static IEnumerable<string> AllKeys() =>
        Shards.SelectMany(s => Enumerable.Range(0, 4).Select(r => $"{s}:{r}"));

    private static async Task<List<string>> Keys(SampleOrder order, int epoch)
    {
        var keys = new List<string>();
        await foreach (OrderedSample s in order.EpochAsync(epoch, _ => default, default))
        {
            keys.Add(s.Raw.Key);
        }
        return keys;
    }

    // Four rows per shard; the shard named "bad" fails after two rows, as a corrupt page would.
    private static async IAsyncEnumerable<RawSample> Rows(string shard, [EnumeratorCancellation] CancellationToken ct)
    {
        for (int row = 0; row < 4; row++)
        {
            if (shard == "bad" && row == 2)
            {
                throw new ShardException(shard, row, "corrupt page");
            }
            await Task.Yield();
            yield return new RawSample(shard, row, $"{shard}:{row}", [1], "caption", null);
        }
    }
}
