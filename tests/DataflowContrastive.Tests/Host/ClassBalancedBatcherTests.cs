using DataflowContrastive.Host.Running;

namespace DataflowContrastive.Tests.Host;

public class ClassBalancedBatcherTests
{
    // Stream of labels, by index: 0:A 1:B 2:A 3:C 4:B 5:C 6:A 7:A 8:B 9:C 10:C 11:B, with A=0, B=1, C=2.
    private static readonly int[] Labels = [0, 1, 0, 2, 1, 2, 0, 0, 1, 2, 2, 1];

    [Fact]
    public void Two_classes_of_two_form_batches_worked_out_by_hand()
    {
        // P = 2, K = 2. Index 2 gives A two; 4 gives B two: batch {0, 2, 1, 4}, in stream order.
        // Then C has 3, 5 (ready); 6: A one; 7: A two -> batch {3, 5, 6, 7}. 8: B one; 9, 10: C two (ready);
        // 11: B two -> batch {8, 11, 9, 10}.
        var batcher = new ClassBalancedBatcher(classes: 2, perClass: 2);

        List<long[]> batches = Feed(batcher, epoch: 0, Enumerable.Range(0, Labels.Length));

        Assert.Equal([[0, 1, 2, 4], [3, 5, 6, 7], [8, 9, 10, 11]], batches);
    }

    [Fact]
    public void Every_batch_holds_p_classes_with_k_samples_each()
    {
        var random = new Random(7);
        int[] labels = [.. Enumerable.Range(0, 400).Select(_ => random.Next(6))];
        var batcher = new ClassBalancedBatcher(classes: 3, perClass: 4);

        int batches = 0;
        for (int i = 0; i < labels.Length; i++)
        {
            if (batcher.Add(Sample(0, i, labels[i])) is { } batch)
            {
                batches++;
                Assert.Equal(12, batch.Length);
                Assert.All(batch.GroupBy(s => s.LabelId), g => Assert.Equal(4, g.Count()));
                Assert.Equal(3, batch.Select(s => s.LabelId).Distinct().Count());
                Assert.Equal(12, batch.Select(s => s.Index).Distinct().Count());
            }
        }
        Assert.InRange(batches, 30, 33);
    }

    [Fact]
    public void A_class_with_fewer_than_k_samples_is_skipped_and_an_epoch_starts_empty()
    {
        // P = 1, K = 3: class 0 fills at index 2; class 1 has only two samples in epoch 0 and is left out; in epoch
        // 1 its two waiting samples of epoch 0 do not count.
        var batcher = new ClassBalancedBatcher(classes: 1, perClass: 3);
        int[] labels = [0, 1, 0, 0, 1];

        List<long[]> epoch0 = Feed(batcher, 0, Enumerable.Range(0, 5), labels);
        List<long[]> epoch1 = Feed(batcher, 1, [0], [1]);

        Assert.Equal([[0, 2, 3]], epoch0);
        Assert.Empty(epoch1);
        Assert.Equal(1, batcher.Waiting);
    }

    [Fact]
    public void The_last_sample_of_a_batch_names_the_samples_still_waiting()
    {
        var batcher = new ClassBalancedBatcher(classes: 2, perClass: 2);
        PreparedSample[]? batch = null;
        for (int i = 0; i <= 4; i++)
        {
            batch = batcher.Add(Sample(0, i, Labels[i])) ?? batch;
        }

        // After index 4 the batch {0, 1, 2, 4} is out and index 3 (class C) waits.
        Assert.NotNull(batch);
        Assert.Equal(4, batch[^1].Index);
        Assert.Equal([3L], batch[^1].HeldBack);
    }

    [Fact]
    public void Replaying_the_waiting_samples_after_a_resume_gives_the_same_later_batches()
    {
        var whole = new ClassBalancedBatcher(2, 2);
        List<long[]> all = Feed(whole, 0, Enumerable.Range(0, Labels.Length));

        // Stop after the first batch: the position is 5 with index 3 waiting. A fresh batcher is fed 3, then 5 on.
        var resumed = new ClassBalancedBatcher(2, 2);
        List<long[]> rest = Feed(resumed, 0, [3, .. Enumerable.Range(5, Labels.Length - 5)]);

        Assert.Equal(all.Skip(1), rest);
    }

    private static List<long[]> Feed(ClassBalancedBatcher batcher, int epoch, IEnumerable<int> indices,
        int[]? labels = null)
    {
        var batches = new List<long[]>();
        foreach (int i in indices)
        {
            int label = labels is null ? Labels[i] : labels[Math.Min(i, labels.Length - 1)];
            if (batcher.Add(Sample(epoch, i, label)) is { } batch)
            {
                batches.Add([.. batch.Select(s => s.Index)]);
            }
        }
        return batches;
    }

    private static PreparedSample Sample(int epoch, long index, int label) => new()
    {
        Epoch = epoch,
        Index = index,
        Key = $"k{index}",
        Caption = "",
        Pixels = System.Buffers.ArrayPool<float>.Shared.Rent(1),
        Tokens = [],
        LabelId = label,
    };
}
