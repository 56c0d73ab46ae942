namespace DataflowContrastive.Host.Running;

/// <summary>
/// The figures an evaluation reports, over embeddings held as row-major float arrays: k-nearest-neighbour accuracy,
/// and the per-dimension spread that shows a collapsed representation. Recall@k is <see cref="RetrievalRecall"/>.
/// </summary>
public static class EvaluationMetrics
{
    /// <summary>The temperature of the k-NN vote weights, as in Wu et al. 2018 (instance discrimination).</summary>
    public const double KnnTemperature = 0.07;

    /// <summary>
    /// Scales each row to unit length in place. A row of zeros stays zero (its norm is taken as at least 1e-12, as
    /// PyTorch's <c>F.normalize</c> does).
    /// </summary>
    public static void Normalise(Span<float> rows, int dimension)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(dimension, 1);
        ArgumentOutOfRangeException.ThrowIfNotEqual(rows.Length % dimension, 0);
        for (int start = 0; start < rows.Length; start += dimension)
        {
            Span<float> row = rows.Slice(start, dimension);
            double squares = 0;
            foreach (float x in row)
            {
                squares += (double)x * x;
            }
            float scale = (float)(1 / Math.Max(Math.Sqrt(squares), 1e-12));
            for (int i = 0; i < row.Length; i++)
            {
                row[i] *= scale;
            }
        }
    }

    /// <summary>
    /// Top-1 accuracy of a weighted k-nearest-neighbour classifier, the usual protocol of self-supervised learning
    /// (Wu et al. 2018): each query takes the <paramref name="k"/> memory rows of highest cosine similarity s, each
    /// votes for its label with weight exp(s / 0.07), and the label with the largest total is the prediction.
    /// </summary>
    /// <remarks>
    /// Rows must be L2-normalised, so the dot product is the cosine similarity. With fewer than k memory rows, all
    /// of them vote. Among memory rows of equal similarity the earlier row is taken first; a tie between labels' totals
    /// goes to the label that sorts first (ordinal). A query whose label no memory row has is always wrong.
    /// </remarks>
    /// <param name="memory">Memory rows (the training split), row-major.</param>
    /// <param name="memoryLabels">One label per memory row.</param>
    /// <param name="queries">Query rows (the held-out split), row-major.</param>
    /// <param name="queryLabels">One label per query row.</param>
    /// <param name="dimension">Floats per row.</param>
    /// <param name="k">Neighbours that vote; at least 1.</param>
    /// <returns>The share of queries whose prediction is their label.</returns>
    public static double KnnTop1(ReadOnlySpan<float> memory, IReadOnlyList<string> memoryLabels,
        ReadOnlySpan<float> queries, IReadOnlyList<string> queryLabels, int dimension, int k)
    {
        ArgumentNullException.ThrowIfNull(memoryLabels);
        ArgumentNullException.ThrowIfNull(queryLabels);
        ArgumentOutOfRangeException.ThrowIfLessThan(dimension, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(k, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(memoryLabels.Count, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(queryLabels.Count, 1);
        ArgumentOutOfRangeException.ThrowIfNotEqual(memory.Length, memoryLabels.Count * dimension);
        ArgumentOutOfRangeException.ThrowIfNotEqual(queries.Length, queryLabels.Count * dimension);

        int neighbours = Math.Min(k, memoryLabels.Count);
        var similarities = new float[memoryLabels.Count];
        var order = new int[memoryLabels.Count];
        var votes = new SortedDictionary<string, double>(StringComparer.Ordinal);
        int correct = 0;
        for (int q = 0; q < queryLabels.Count; q++)
        {
            ReadOnlySpan<float> query = queries.Slice(q * dimension, dimension);
            for (int m = 0; m < order.Length; m++)
            {
                similarities[m] = Dot(query, memory.Slice(m * dimension, dimension));
                order[m] = m;
            }

            // Highest similarity first; equal ones keep the memory's order, so the choice is deterministic.
            Array.Sort(order, (a, b) => similarities[b] != similarities[a]
                ? similarities[b].CompareTo(similarities[a])
                : a.CompareTo(b));

            votes.Clear();
            for (int n = 0; n < neighbours; n++)
            {
                int m = order[n];
                votes[memoryLabels[m]] = votes.GetValueOrDefault(memoryLabels[m])
                    + Math.Exp(similarities[m] / KnnTemperature);
            }
            correct += string.Equals(Predict(votes), queryLabels[q], StringComparison.Ordinal) ? 1 : 0;
        }
        return (double)correct / queryLabels.Count;
    }

    /// <summary>
    /// The collapse check: the standard deviation of each dimension over the rows, after each row is L2-normalised,
    /// summarised as the mean and the minimum over dimensions. Rows spread evenly over the sphere give about
    /// 1/sqrt(d) in every dimension; a collapsed representation (every input mapped near one point) gives about 0.
    /// The deviation divides by N - 1, as <c>torch.std</c> does by default.
    /// </summary>
    /// <param name="rows">Row-major embeddings; normalised here, so they need not be.</param>
    /// <param name="dimension">Floats per row.</param>
    /// <returns>The mean and the minimum over dimensions of the per-dimension standard deviation.</returns>
    public static (double Mean, double Min) DimensionSpread(ReadOnlySpan<float> rows, int dimension)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(dimension, 1);
        ArgumentOutOfRangeException.ThrowIfNotEqual(rows.Length % dimension, 0);
        int count = rows.Length / dimension;
        ArgumentOutOfRangeException.ThrowIfLessThan(count, 2);
        float[] normalised = rows.ToArray();
        Normalise(normalised, dimension);

        double sum = 0;
        double min = double.PositiveInfinity;
        for (int j = 0; j < dimension; j++)
        {
            double mean = 0;
            for (int i = 0; i < count; i++)
            {
                mean += normalised[(i * dimension) + j];
            }
            mean /= count;
            double squares = 0;
            for (int i = 0; i < count; i++)
            {
                double delta = normalised[(i * dimension) + j] - mean;
                squares += delta * delta;
            }
            double std = Math.Sqrt(squares / (count - 1));
            sum += std;
            min = Math.Min(min, std);
        }
        return (sum / dimension, min);
    }

    // Votes are sorted by label, and only a strictly larger total displaces the leader: ties go to the first label.
    private static string Predict(SortedDictionary<string, double> votes)
    {
        string best = "";
        double most = double.NegativeInfinity;
        foreach ((string label, double total) in votes)
        {
            if (total > most)
            {
                (best, most) = (label, total);
            }
        }
        return best;
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
