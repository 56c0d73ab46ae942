using System.Text.Json;
using DataflowContrastive.Host.Running;

namespace DataflowContrastive.Tests.Host;

/// <summary>
/// The evaluation's figures against PyTorch (tests/reference/host_eval_reference.py, run once on fixed embeddings)
/// and against small cases worked out by hand.
/// </summary>
public sealed class EvaluationMetricsTests
{
    private static readonly JsonElement Reference = JsonDocument.Parse(
        File.ReadAllText(Path.Combine(TestPaths.Fixtures, "Host", "host_eval_reference.json"))).RootElement;

    private static int Dimension => Reference.GetProperty("dimension").GetInt32();

    [Theory]
    [InlineData("image_to_text", 1)]
    [InlineData("image_to_text", 5)]
    [InlineData("image_to_text", 10)]
    [InlineData("text_to_image", 1)]
    [InlineData("text_to_image", 5)]
    [InlineData("text_to_image", 10)]
    public void Recall_at_k_matches_pytorch_in_both_directions(string direction, int k)
    {
        float[] images = Floats("images");
        float[] texts = Floats("texts");
        (float[] queries, float[] targets) = direction == "image_to_text" ? (images, texts) : (texts, images);

        double recall = RetrievalRecall.AtK(queries, targets, images.Length / Dimension, Dimension, k);

        Assert.Equal(Reference.GetProperty("recall").GetProperty($"{direction}_at_{k}").GetDouble(), recall, 9);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(5)]
    [InlineData(20)]
    [InlineData(100)]
    public void Weighted_knn_accuracy_matches_pytorch(int k)
    {
        double accuracy = EvaluationMetrics.KnnTop1(Floats("memory"), Strings("memory_labels"), Floats("queries"),
            Strings("query_labels"), Dimension, k);

        Assert.Equal(Reference.GetProperty("knn").GetProperty($"{k}").GetDouble(), accuracy, 9);
    }

    [Fact]
    public void The_spread_of_unnormalised_rows_matches_the_std_of_the_normalised_rows_in_pytorch()
    {
        (double mean, double min) = EvaluationMetrics.DimensionSpread(Floats("unnormalised"), Dimension);

        Assert.Equal(Reference.GetProperty("spread").GetProperty("mean").GetDouble(), mean, 6);
        Assert.Equal(Reference.GetProperty("spread").GetProperty("min").GetDouble(), min, 6);
    }

    [Fact]
    public void Identical_embeddings_have_a_spread_of_zero()
    {
        float[] rows = [.. Enumerable.Repeat(new float[] { 3, 4, 0 }, 5).SelectMany(r => r)];

        (double mean, double min) = EvaluationMetrics.DimensionSpread(rows, 3);

        Assert.Equal(0, mean, 12);
        Assert.Equal(0, min, 12);
    }

    [Fact]
    public void Two_opposite_unit_rows_have_the_spread_worked_out_by_hand()
    {
        // Rows (1, 0) and (-1, 0): dimension 0 has mean 0 and deviation sqrt((1 + 1) / (2 - 1)) = sqrt(2);
        // dimension 1 is 0 in both. Mean over dimensions sqrt(2) / 2, minimum 0.
        (double mean, double min) = EvaluationMetrics.DimensionSpread([1, 0, -1, 0], 2);

        Assert.Equal(Math.Sqrt(2) / 2, mean, 12);
        Assert.Equal(0, min, 12);
    }

    [Fact]
    public void A_k_larger_than_the_memory_lets_every_memory_row_vote()
    {
        // Memory: one "a" at similarity 1 to the query, two "b" at similarity 0.8. With k = 1 the "a" wins; with
        // every row voting, b totals 2 exp(0.8 / 0.07) = e^11.43 * 2, a totals e^14.29; a is still larger
        // (e^2.86 = 17.4 > 2). With three "b" rows at 0.99 instead, b wins: 3 e^14.14 > e^14.29.
        float[] query = [1, 0];
        float[] memory = [1, 0, 0.8f, 0.6f, 0.8f, -0.6f];
        Assert.Equal(1, EvaluationMetrics.KnnTop1(memory, ["a", "b", "b"], query, ["a"], 2, 1));
        Assert.Equal(1, EvaluationMetrics.KnnTop1(memory, ["a", "b", "b"], query, ["a"], 2, 100));

        float near = 0.99f;
        float side = MathF.Sqrt(1 - (near * near));
        float[] closeB = [1, 0, near, side, near, -side, near, side];
        Assert.Equal(0, EvaluationMetrics.KnnTop1(closeB, ["a", "b", "b", "b"], query, ["a"], 2, 100));
    }

    [Fact]
    public void A_query_whose_class_is_missing_from_the_memory_is_always_wrong()
    {
        float[] memory = [1, 0, 0, 1];

        double accuracy = EvaluationMetrics.KnnTop1(memory, ["a", "b"], [1, 0, 0, 1], ["a", "c"], 2, 1);

        Assert.Equal(0.5, accuracy, 12);
    }

    [Fact]
    public void Equal_similarities_take_the_earlier_memory_row_and_equal_votes_the_first_label()
    {
        // Both memory rows equal the query. With k = 1 the earlier row ("b") is the neighbour; with k = 2 "a" and
        // "b" have equal totals, and the tie goes to "a", which sorts first.
        float[] memory = [1, 0, 1, 0];
        float[] query = [1, 0];

        Assert.Equal(1, EvaluationMetrics.KnnTop1(memory, ["b", "a"], query, ["b"], 2, 1));
        Assert.Equal(1, EvaluationMetrics.KnnTop1(memory, ["b", "a"], query, ["a"], 2, 2));
    }

    [Fact]
    public void Recall_at_10_over_fewer_than_10_pairs_is_1()
    {
        float[] images = [1, 0, 0, 1, -1, 0];
        float[] texts = [0, 1, 1, 0, 0, -1];

        Assert.Equal(0, RetrievalRecall.AtK(images, texts, 3, 2, 1), 12);
        Assert.Equal(1, RetrievalRecall.AtK(images, texts, 3, 2, 10), 12);
    }

    [Fact]
    public void Normalising_leaves_a_zero_row_zero_and_scales_the_others_to_unit_length()
    {
        float[] rows = [3, 4, 0, 0];

        EvaluationMetrics.Normalise(rows, 2);

        Assert.Equal([0.6f, 0.8f, 0, 0], rows);
    }

    private static float[] Floats(string name) =>
        [.. Reference.GetProperty(name).EnumerateArray().Select(e => e.GetSingle())];

    private static string[] Strings(string name) =>
        [.. Reference.GetProperty(name).EnumerateArray().Select(e => e.GetString()!)];
}
