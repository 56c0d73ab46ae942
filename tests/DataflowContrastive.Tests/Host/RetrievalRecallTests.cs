using DataflowContrastive.Host.Running;

namespace DataflowContrastive.Tests.Host;

public class RetrievalRecallTests
{
    // Three 2-d unit vectors per side. Query 0 is closest to target 0; query 1 is closest to target 2 and second
    // closest to target 1; query 2 is closest to target 2. Worked out by hand from the dot products below.
    private static readonly float[] Images = [1, 0, 0.6f, 0.8f, 0, 1];
    private static readonly float[] Texts = [1, 0, 0.8f, 0.6f, 0.28f, 0.96f];

    [Fact]
    public void Recall_at_1_counts_queries_whose_partner_ranks_first()
    {
        // Query 1 scores target 1 at 0.96 and target 2 at 0.936: its partner is first. Query 2 scores target 2 at
        // 0.96, target 1 at 0.6: first. Query 0 scores target 0 at 1: first. So 3 of 3.
        Assert.Equal(1.0, RetrievalRecall.AtK(Images, Texts, 3, 2, 1), 6);
    }

    [Fact]
    public void Recall_at_1_misses_a_partner_that_ranks_second()
    {
        float[] texts = [1, 0, 0.28f, 0.96f, 0.8f, 0.6f];

        // Query 1 (0.6, 0.8): target 1 scores 0.936, target 2 scores 0.96 -> partner second (miss at 1, hit at 2).
        // Query 2 (0, 1): target 2 scores 0.6, target 1 scores 0.96 -> partner second as well.
        Assert.Equal(1.0 / 3, RetrievalRecall.AtK(Images, texts, 3, 2, 1), 6);
        Assert.Equal(1.0, RetrievalRecall.AtK(Images, texts, 3, 2, 2), 6);
    }

    [Fact]
    public void A_tie_with_another_row_counts_against_the_query()
    {
        float[] same = [1, 0, 1, 0];

        Assert.Equal(0.0, RetrievalRecall.AtK(same, same, 2, 2, 1), 6);
        Assert.Equal(1.0, RetrievalRecall.AtK(same, same, 2, 2, 2), 6);
    }
}
