using System.Numerics;

namespace DataflowContrastive.Augment;

/// <summary>Source of uniform numbers for the random augmentations; tests substitute scripted sequences.</summary>
public interface IUniformRandom
{
    /// <summary>A number uniformly drawn from [<paramref name="min"/>, <paramref name="max"/>).</summary>
    double NextDouble(double min, double max);

    /// <summary>An integer uniformly drawn from [<paramref name="min"/>, <paramref name="maxExclusive"/>).</summary>
    int NextInt(int min, int maxExclusive);
}

/// <summary>
/// xoshiro256** seeded through SplitMix64 from the four parts of a <see cref="SampleSeed"/>: small, fast, and the
/// same on every machine and thread. Not thread-safe; each view owns one.
/// </summary>
public sealed class SampleRandom : IUniformRandom
{
    private ulong _s0;
    private ulong _s1;
    private ulong _s2;
    private ulong _s3;

    /// <summary>Creates the generator for <paramref name="seed"/>.</summary>
    public SampleRandom(SampleSeed seed)
    {
        // Each part is folded in through a full SplitMix64 round so that neighbouring indices or views give
        // unrelated streams.
        ulong h = SplitMix((ulong)seed.Seed);
        h = SplitMix(h ^ (uint)seed.Epoch);
        h = SplitMix(h ^ (ulong)seed.SampleIndex);
        h = SplitMix(h ^ (uint)seed.View);

        _s0 = SplitMix(ref h);
        _s1 = SplitMix(ref h);
        _s2 = SplitMix(ref h);
        _s3 = SplitMix(ref h);
    }

    /// <summary>The next 64 random bits.</summary>
    public ulong NextUInt64()
    {
        ulong result = BitOperations.RotateLeft(_s1 * 5, 7) * 9;
        ulong t = _s1 << 17;
        _s2 ^= _s0;
        _s3 ^= _s1;
        _s1 ^= _s2;
        _s0 ^= _s3;
        _s2 ^= t;
        _s3 = BitOperations.RotateLeft(_s3, 45);
        return result;
    }

    /// <summary>A number uniformly drawn from [0, 1) with 53 random bits.</summary>
    public double NextDouble() => (NextUInt64() >> 11) * (1.0 / (1UL << 53));

    /// <inheritdoc/>
    public double NextDouble(double min, double max) => min + ((max - min) * NextDouble());

    /// <inheritdoc/>
    public int NextInt(int min, int maxExclusive)
    {
        if (maxExclusive <= min)
        {
            throw new ArgumentOutOfRangeException(nameof(maxExclusive), $"Empty range [{min}, {maxExclusive}).");
        }

        // Lemire's multiply-shift: the bias for ranges below 2^31 is under 2^-32, far below anything visible.
        ulong range = (ulong)((long)maxExclusive - min);
        return (int)(min + (long)(((NextUInt64() >> 32) * range) >> 32));
    }

    /// <summary>True with probability <paramref name="p"/>.</summary>
    public bool NextBool(double p) => NextDouble() < p;

    private static ulong SplitMix(ulong x)
    {
        return SplitMix(ref x);
    }

    private static ulong SplitMix(ref ulong state)
    {
        state += 0x9E3779B97F4A7C15UL;
        ulong z = state;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }
}
