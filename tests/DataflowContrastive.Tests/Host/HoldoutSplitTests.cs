using System.Text.Json;
using DataflowContrastive.Host.Pipelines;
using DataflowContrastive.Host.Running;
using DataflowContrastive.Ingest;

namespace DataflowContrastive.Tests.Host;

public sealed class HoldoutSplitTests
{
    [Fact]
    public void A_keys_place_is_the_scaled_sha256_prefix_that_python_computes()
    {
        JsonElement reference = JsonDocument.Parse(
            File.ReadAllText(Path.Combine(TestPaths.Fixtures, "Host", "host_eval_reference.json"))).RootElement;
        string[] keys = [.. reference.GetProperty("keys").EnumerateArray().Select(e => e.GetString()!)];
        double[] places = [.. reference.GetProperty("places").EnumerateArray().Select(e => e.GetDouble())];

        Assert.All(keys.Zip(places), pair => Assert.Equal(pair.Second, HoldoutSplit.Place(pair.First), 15));
    }

    [Theory]
    [InlineData(0.1)]
    [InlineData(0.25)]
    [InlineData(0.5)]
    public void The_held_out_share_of_1000_keys_is_within_three_standard_deviations_of_the_fraction(double fraction)
    {
        int heldOut = Enumerable.Range(0, 1000).Count(i => HoldoutSplit.IsHeldOut($"shard-{i / 100:D3}:{i}", fraction));

        // Binomial(1000, p): three standard deviations are at most 3 sqrt(1000 / 4), about 47 keys.
        double sigma = Math.Sqrt(1000 * fraction * (1 - fraction));
        Assert.InRange(heldOut, 1000 * fraction - (3 * sigma), 1000 * fraction + (3 * sigma));
    }

    [Fact]
    public void A_larger_share_holds_out_every_key_a_smaller_one_does_and_zero_holds_out_none()
    {
        string[] keys = [.. Enumerable.Range(0, 500).Select(i => $"k{i}")];

        Assert.All(keys.Where(k => HoldoutSplit.IsHeldOut(k, 0.1)), k => Assert.True(HoldoutSplit.IsHeldOut(k, 0.3)));
        Assert.DoesNotContain(keys, k => HoldoutSplit.IsHeldOut(k, 0));
    }

    [Fact]
    public async Task Two_readers_of_the_sample_hold_out_the_same_keys_and_training_never_sees_them()
    {
        IReadOnlyList<string> shards = ShardDiscovery.Find([TestPaths.Repo("samples", "coco-cc")], "/");

        string[] all = await KeysAsync(new SampleOrder(shards, NewReader(), 1, 1, shuffle: false));
        string[] heldOutFirst = [.. all.Where(k => HoldoutSplit.IsHeldOut(k, 0.3))];
        string[] allAgain = await KeysAsync(new SampleOrder(shards, NewReader(), 9, 1, shuffle: false));
        string[] heldOutSecond = [.. allAgain.Where(k => HoldoutSplit.IsHeldOut(k, 0.3))];
        string[] training = await KeysAsync(new SampleOrder(shards, NewReader(), 7, 16, shuffle: true,
            HoldoutSplit.TrainingRows(0.3)));

        Assert.Equal(heldOutFirst, heldOutSecond);
        Assert.InRange(heldOutFirst.Length, 1, all.Length - 1);
        Assert.Empty(training.Intersect(heldOutFirst));
        Assert.Equal(all.Order(StringComparer.Ordinal), training.Concat(heldOutFirst).Order(StringComparer.Ordinal));
    }

    [Fact]
    public void A_checkpoint_is_refused_for_another_held_out_share_but_not_for_other_evaluation_keys()
    {
        IReadOnlyList<string> shards = ShardDiscovery.Find([TestPaths.Repo("samples", "coco-cc")], "/");
        IReadOnlyDictionary<string, string> Fingerprint(string eval) => RunFingerprint.Compute(
            PipelineFileReader.Parse($"source: {{ shards: x }}\n{eval}", "/x.yaml"), shards);

        IReadOnlyDictionary<string, string> none = Fingerprint("");
        IReadOnlyDictionary<string, string> some = Fingerprint("eval: { holdout: 0.3 }\n");

        Assert.Empty(RunFingerprint.Differences(none, Fingerprint("eval: { holdout: 0 }\n")));
        Assert.Equal(["eval.holdout was the default (0), is now 0.3"], RunFingerprint.Differences(none, some));
        Assert.Empty(RunFingerprint.Differences(some, Fingerprint(
            "eval: { holdout: 0.3, every: 5, max_samples: 10, knn_k: 3, cache_mb: 0 }\n")));
    }

    [Fact]
    public void The_held_out_share_is_refused_above_one_half()
    {
        var e = Assert.Throws<PipelineFileException>(() => PipelineFileReader.Parse(
            "source: { shards: x }\neval: { holdout: 0.6 }\n", "/x.yaml"));

        Assert.Contains("eval.holdout", e.Message, StringComparison.Ordinal);
        Assert.Contains("from 0 to 0.5", e.Message, StringComparison.Ordinal);
    }

    private static Func<string, CancellationToken, IAsyncEnumerable<RawSample>> NewReader() =>
        new ShardReader(new IngestOptions()).ReadAsync;

    private static async Task<string[]> KeysAsync(SampleOrder order)
    {
        var keys = new List<string>();
        await foreach (OrderedSample sample in order.EpochAsync(0, _ => ValueTask.CompletedTask, default))
        {
            keys.Add(sample.Raw.Key);
        }
        return [.. keys];
    }
}
