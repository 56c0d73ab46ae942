using DataflowContrastive.Train;
using static TorchSharp.torch;

namespace DataflowContrastive.Tests.Train;

[Collection(SharedTorchGenerator.Name)]
public class ClipTrainerTests
{
    private const int Batch = 4;

    [Fact]
    public void Training_on_one_fixed_batch_drives_the_loss_down()
    {
        using var trainer = new ClipTrainer(TinyModels.Options, TinyModels.FastOptimizer, 200, CPU, seed: 3);
        float[] images = TinyModels.Images(Batch, seed: 3);
        long[] tokens = TinyModels.Tokens(Batch);

        StepResult first = trainer.TrainStep(images, tokens, Batch);
        StepResult last = first;
        for (int i = 0; i < 24; i++)
        {
            last = trainer.TrainStep(images, tokens, Batch);
        }

        // Chance level for 4 pairs is ln 4 = 1.386.
        Assert.InRange(first.Loss, 0.8, 4);
        Assert.True(last.Loss < 0.1 * first.Loss, $"loss went from {first.Loss} to {last.Loss}");
        Assert.Equal(25, last.Step);
        Assert.Equal(25, trainer.Step);
    }

    [Fact]
    public void Step_result_reports_the_scheduled_learning_rate_and_the_temperature()
    {
        var optimizer = new OptimizerOptions { LearningRate = 1e-3, WarmupSteps = 4 };
        using var trainer = new ClipTrainer(TinyModels.Options, optimizer, 10, CPU, seed: 4);

        StepResult result = trainer.TrainStep(TinyModels.Images(Batch, 4), TinyModels.Tokens(Batch), Batch);

        // First of 4 warm-up steps: 1e-3 / 4. The temperature starts at 1/0.07 and moves by about one step of AdamW.
        Assert.Equal(1, result.Step);
        Assert.Equal(2.5e-4, result.LearningRate, 12);
        Assert.InRange(result.Temperature, (1 / 0.07) - 0.1, (1 / 0.07) + 0.1);
        Assert.Equal(trainer.Temperature, result.Temperature, 6);
    }

    [Fact]
    public void The_same_seed_gives_the_same_weights_and_another_seed_different_ones()
    {
        float[] images = TinyModels.Images(2, seed: 5);
        using var a = new ClipTrainer(TinyModels.Options, TinyModels.FastOptimizer, 10, CPU, seed: 5);
        using var b = new ClipTrainer(TinyModels.Options, TinyModels.FastOptimizer, 10, CPU, seed: 5);
        using var c = new ClipTrainer(TinyModels.Options, TinyModels.FastOptimizer, 10, CPU, seed: 6);

        Assert.Equal(a.EmbedImages(images, 2), b.EmbedImages(images, 2));
        Assert.NotEqual(a.EmbedImages(images, 2), c.EmbedImages(images, 2));
    }

    [Fact]
    public void A_row_embeds_to_the_same_bits_whatever_the_other_rows_of_an_equally_sized_batch_hold()
    {
        // The export pads every batch to its full size and relies on this to write the same bytes after a resume.
        const int Count = 4;
        float[] first = TinyModels.Images(Count, seed: 1);
        float[] second = TinyModels.Images(Count, seed: 2);
        int size = first.Length / Count;
        first.AsSpan(0, size).CopyTo(second);
        long[] tokens = TinyModels.Tokens(Count);
        long[] shuffled = [.. tokens.AsSpan(0, TinyModels.Options.ContextLength), .. TinyModels.Tokens(Count + 3)
            .AsSpan(3 * TinyModels.Options.ContextLength, (Count - 1) * TinyModels.Options.ContextLength)];
        using var trainer = new ClipTrainer(TinyModels.Options, TinyModels.FastOptimizer, 10, CPU, seed: 3);
        int dimension = TinyModels.Options.EmbedDim;

        Assert.Equal(trainer.EmbedImages(first, Count)[..dimension], trainer.EmbedImages(second, Count)[..dimension]);
        Assert.Equal(trainer.EmbedTexts(tokens, Count)[..dimension], trainer.EmbedTexts(shuffled, Count)[..dimension]);
        Assert.NotEqual(trainer.EmbedImages(first, Count), trainer.EmbedImages(second, Count));
    }

    [Fact]
    public void Embeddings_come_back_as_unit_rows()
    {
        using var trainer = new ClipTrainer(TinyModels.Options, TinyModels.FastOptimizer, 10, CPU, seed: 7);

        float[] texts = trainer.EmbedTexts(TinyModels.Tokens(3), 3);

        Assert.Equal(3 * 8, texts.Length);
        for (int row = 0; row < 3; row++)
        {
            double norm = Math.Sqrt(texts.AsSpan(row * 8, 8).ToArray().Sum(v => (double)v * v));
            Assert.Equal(1, norm, 5);
        }
    }

    [Fact]
    public void A_batch_whose_size_does_not_match_the_arrays_is_refused()
    {
        using var trainer = new ClipTrainer(TinyModels.Options, TinyModels.FastOptimizer, 10, CPU, seed: 8);

        var error = Assert.Throws<ArgumentException>(
            () => trainer.TrainStep(TinyModels.Images(3, 8), TinyModels.Tokens(4), 4));
        Assert.Equal("images", error.ParamName);
    }

    [Fact]
    public void A_batch_with_a_nan_pixel_is_skipped_without_touching_the_weights()
    {
        using var trainer = new ClipTrainer(TinyModels.Options, TinyModels.FastOptimizer, 10, CPU, seed: 9);
        float[] good = TinyModels.Images(Batch, seed: 9);
        long[] tokens = TinyModels.Tokens(Batch);
        trainer.TrainStep(good, tokens, Batch);
        float[] before = trainer.EmbedImages(good, Batch);
        float[] bad = (float[])good.Clone();
        bad[5] = float.NaN;

        StepResult skipped = trainer.TrainStep(bad, tokens, Batch);

        Assert.True(skipped.Skipped);
        Assert.True(double.IsNaN(skipped.Loss));
        Assert.Equal(2, skipped.Step);
        Assert.Equal(1, trainer.SkippedSteps);
        Assert.Equal(before, trainer.EmbedImages(good, Batch));

        StepResult next = trainer.TrainStep(good, tokens, Batch);
        Assert.False(next.Skipped);
        Assert.True(double.IsFinite(next.Loss));
        Assert.All(trainer.EmbedImages(good, Batch), v => Assert.True(float.IsFinite(v)));
    }

    [Fact]
    public void A_duplicated_pair_holds_plain_clip_above_its_floor_but_not_the_masked_loss()
    {
        // Pairs 0 and 1 are the same image with the same caption. Plain CLIP cannot tell them apart, so each of those
        // two rows puts at most half its probability on its own pair: the loss stays at or above 2·ln 2 / 4 = 0.3466
        // on both sides. Masking the duplicate removes that floor.
        float[] images = TinyModels.Images(Batch, seed: 10);
        Array.Copy(images, 0, images, 3 * 8 * 8, 3 * 8 * 8);
        long[] tokens = TinyModels.Tokens(Batch);
        Array.Copy(tokens, 0, tokens, 6, 6);
        bool[] mask = DuplicateMask.FromKeys([0, 0, 2, 3], []);

        double plain = Train(FalseNegativeMode.Ignore);
        double masked = Train(FalseNegativeMode.Masked);

        Assert.True(plain >= 0.3465, $"plain CLIP reached {plain}");
        Assert.True(masked < 0.1, $"masked CLIP reached {masked}");

        double Train(FalseNegativeMode mode)
        {
            using var trainer = new ClipTrainer(TinyModels.Options, TinyModels.FastOptimizer, 100, CPU, seed: 10);
            StepResult result = trainer.TrainStep(images, tokens, Batch, mask, mode);
            for (int i = 0; i < 30; i++)
            {
                result = trainer.TrainStep(images, tokens, Batch, mask, mode);
            }
            return result.Loss;
        }
    }
}
