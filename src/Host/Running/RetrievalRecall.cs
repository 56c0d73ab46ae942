namespace DataflowContrastive.Host.Running;

/// <summary>Image-to-text and text-to-image recall@k of paired, L2-normalised embeddings.</summary>
public static class RetrievalRecall
{
    /// <summary>
    /// The share of queries whose true partner (the row with the same index) ranks among the <paramref name="k"/>
    /// most similar rows of the other side. Ties are counted against the query: a partner only counts as within the
    /// top k when fewer than k other rows score strictly higher.
    /// </summary>
    /// <param name="queries">Row-major, <paramref name="count"/> rows of <paramref name="dimension"/> floats.</param>
    /// <param name="targets">The other side, row-aligned with <paramref name="queries"/>.</param>
    /// <param name="count">Rows on each side.</param>
    /// <param name="dimension">Floats per row.</param>
    /// <param name="k">How many of the best-scoring rows count as a hit.</param>
    public static double AtK(ReadOnlySpan<float> queries, ReadOnlySpan<float> targets, int count, int dimension, int k)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(count, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(k, 1);
        ArgumentOutOfRangeException.ThrowIfNotEqual(queries.Length, count * dimension);
        ArgumentOutOfRangeException.ThrowIfNotEqual(targets.Length, count * dimension);

        int hits = 0;
        for (int q = 0; q < count; q++)
        {
            ReadOnlySpan<float> query = queries.Slice(q * dimension, dimension);
            float partner = Dot(query, targets.Slice(q * dimension, dimension));
            int better = 0;
            for (int t = 0; t < count && better < k; t++)
            {
                if (t != q && Dot(query, targets.Slice(t * dimension, dimension)) >= partner)
                {
                    better++;
                }
            }
            hits += better < k ? 1 : 0;
        }
        return (double)hits / count;
    }

    private static float Dot(ReadOnlySpan<float> a, ReadOnlySpan<float> b)
    {
        float sum = 0;
        for (int i = 0; i < a.Length; i++)
        {
            sum += a[i] * b[i];
        }
        return sum;
    }
}
