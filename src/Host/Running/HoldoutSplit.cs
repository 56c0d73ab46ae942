using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;
using DataflowContrastive.Ingest;

namespace DataflowContrastive.Host.Running;

/// <summary>
/// Which samples are held out of training for evaluation: a pure function of the sample key and the share to hold
/// out, so the same rows are held out on every run, machine and resumption, whatever the shard order. A key's place
/// is the first 8 bytes of the SHA-256 of its UTF-8 text, read as a big-endian unsigned number and scaled to [0, 1);
/// the key is held out when its place is below the share. Growing the share only adds keys to the held-out set.
/// </summary>
public static class HoldoutSplit
{
    private const double TwoToThe64 = 18446744073709551616.0;

    /// <summary>The key's place in [0, 1), uniform over keys.</summary>
    public static double Place(string key)
    {
        ArgumentNullException.ThrowIfNull(key);
        Span<byte> hash = stackalloc byte[SHA256.HashSizeInBytes];
        SHA256.HashData(Encoding.UTF8.GetBytes(key), hash);
        return BinaryPrimitives.ReadUInt64BigEndian(hash) / TwoToThe64;
    }

    /// <summary>True when the sample with <paramref name="key"/> is held out at <paramref name="fraction"/>.</summary>
    /// <param name="key">The sample key (a key column's value, or <c>FILE:ROW</c>).</param>
    /// <param name="fraction">The share held out, from 0 (none) to 1.</param>
    public static bool IsHeldOut(string key, double fraction)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(fraction, 0);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(fraction, 1);
        return fraction > 0 && Place(key) < fraction;
    }

    /// <summary>The rows that train when <paramref name="fraction"/> is held out, as a filter for
    /// <see cref="SampleOrder"/>; null (every row) when nothing is held out.</summary>
    public static Func<RawSample, bool>? TrainingRows(double fraction)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(fraction, 0);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(fraction, 1);
        return fraction > 0 ? raw => !IsHeldOut(raw.Key, fraction) : null;
    }
}
