using System.Collections.Frozen;
using System.Globalization;

namespace DataflowContrastive.Ingest;

/// <summary>
/// Maps the labels of a data set (as <see cref="RawSample.Label"/> holds them, in string form) to class ids
/// 0, 1, 2, ... in a way that depends only on the set of labels: not on the order in which shards or rows are
/// read, nor on how the rows are spread over shards.
/// </summary>
/// <remarks>
/// When every label is a plain non-negative integer (ASCII digits, no sign, no leading zero, below
/// <see cref="int.MaxValue"/>), each keeps its value as its class id, so <c>7</c> is class 7 and
/// <see cref="ClassCount"/> is the largest label plus one; ids no row uses stay free. Otherwise every label is
/// taken as text and the ids follow the labels' ordinal (byte-wise UTF-16) sort order: <c>cat</c> 0,
/// <c>dog</c> 1. A mix of numbers and words is text, so <c>10</c> sorts before <c>2</c>. Null labels are not
/// classes and are left out.
/// </remarks>
public sealed class LabelMap
{
    private readonly FrozenDictionary<string, int> _ids;

    private LabelMap(FrozenDictionary<string, int> ids, IReadOnlyList<string> labels, int classCount, bool integers)
    {
        _ids = ids;
        Labels = labels;
        ClassCount = classCount;
        IntegerLabels = integers;
    }

    /// <summary>The distinct labels, in increasing order of their class ids.</summary>
    public IReadOnlyList<string> Labels { get; }

    /// <summary>The number of class ids: the largest id plus one (0 when there is no label).</summary>
    public int ClassCount { get; }

    /// <summary>True when every label is a plain non-negative integer and is its own class id.</summary>
    public bool IntegerLabels { get; }

    /// <summary>Builds the map of the distinct non-null values of <paramref name="labels"/>.</summary>
    public static LabelMap Create(IEnumerable<string?> labels)
    {
        ArgumentNullException.ThrowIfNull(labels);
        string[] distinct = [.. labels.OfType<string>().Distinct(StringComparer.Ordinal)];
        int[]? values = IntegerValues(distinct);
        if (values is not null)
        {
            Array.Sort(values, distinct);
            int count = values.Length == 0 ? 0 : values[^1] + 1;
            return new LabelMap(distinct.Zip(values).ToFrozenDictionary(p => p.First, p => p.Second,
                StringComparer.Ordinal), distinct, count, integers: true);
        }

        Array.Sort(distinct, StringComparer.Ordinal);
        return new LabelMap(distinct.Select((label, id) => (label, id)).ToFrozenDictionary(p => p.label, p => p.id,
            StringComparer.Ordinal), distinct, distinct.Length, integers: false);
    }

    /// <summary>
    /// Reads the label column of every shard in <paramref name="shards"/> (no image is read) and builds the map of
    /// its values. A shard that cannot be read adds no label: reading it for training reports it.
    /// </summary>
    public static async Task<LabelMap> FromShardsAsync(ShardReader reader, IEnumerable<string> shards,
        CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(reader);
        ArgumentNullException.ThrowIfNull(shards);
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (string shard in shards)
        {
            try
            {
                await foreach (string? label in reader.ReadLabelsAsync(shard, cancellationToken))
                {
                    if (label is not null)
                    {
                        seen.Add(label);
                    }
                }
            }
            catch (ShardException)
            {
                // Rejected, counted and recorded when the shard is read for its samples.
            }
        }
        return Create(seen);
    }

    /// <summary>The class id of <paramref name="label"/>, if the map holds it.</summary>
    public bool TryGetId(string label, out int id)
    {
        ArgumentNullException.ThrowIfNull(label);
        return _ids.TryGetValue(label, out id);
    }

    // The labels' values when all are plain non-negative integers, else null.
    private static int[]? IntegerValues(string[] labels)
    {
        int[] values = new int[labels.Length];
        for (int i = 0; i < labels.Length; i++)
        {
            string label = labels[i];
            bool plain = label.Length > 0 && label.All(char.IsAsciiDigit) && (label.Length == 1 || label[0] != '0');
            if (!plain || !int.TryParse(label, NumberStyles.None, CultureInfo.InvariantCulture, out values[i])
                || values[i] == int.MaxValue)
            {
                return null;
            }
        }
        return values;
    }
}
