using DataflowContrastive.Augment;

namespace DataflowContrastive.Tests.Augment;

public class SampleRandomTests
{
    [Fact]
    public void Equal_seeds_give_equal_sequences()
    {
        SampleRandom a = new SampleSeed(42, 3, 1_000_000_007, 1).CreateRandom();
        SampleRandom b = new SampleSeed(42, 3, 1_000_000_007, 1).CreateRandom();

        Assert.Equal(Enumerable.Range(0, 100).Select(_ => a.NextUInt64()), Enumerable.Range(0, 100).Select(
            _ => b.NextUInt64()));
    }

    [Fact]
    public void Each_part_of_the_seed_changes_the_sequence()
    {
        SampleSeed baseSeed = new(42, 3, 17, 0);
        SampleSeed[] variants = [baseSeed with { Seed = 43 }, baseSeed with { Epoch = 4 },
            baseSeed with { SampleIndex = 18 }, baseSeed with { View = 1 }];
        ulong first = baseSeed.CreateRandom().NextUInt64();

        Assert.All(variants, v => Assert.NotEqual(first, v.CreateRandom().NextUInt64()));
    }

    [Fact]
    public void Uniform_draws_are_in_range_and_roughly_uniform()
    {
        SampleRandom rng = new SampleSeed(1, 0, 0, 0).CreateRandom();
        int[] counts = new int[10];
        double sum = 0;
        for (int i = 0; i < 100_000; i++)
        {
            double u = rng.NextDouble();
            Assert.InRange(u, 0, 0.9999999999999999);
            sum += u;
            counts[rng.NextInt(0, 10)]++;
        }

        Assert.InRange(sum / 100_000, 0.49, 0.51);
        Assert.All(counts, c => Assert.InRange(c, 9_500, 10_500));
    }
}
