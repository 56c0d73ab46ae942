using DataflowContrastive.Train;
using static TorchSharp.torch;

namespace DataflowContrastive.Tests.Train;

[Collection(SharedTorchGenerator.Name)]
public class ImageOnlyTrainerTests
{
    private const int Samples = 4;

    [Fact]
    public void Nt_xent_training_on_fixed_views_drives_the_loss_down()
    {
        using var trainer = new ImageOnlyTrainer(TinyModels.Options, TinyModels.FastOptimizer, 200, 0.5, CPU, seed: 3);
        float[] views = TwinViews(Samples, seed: 3);

        StepResult first = trainer.TrainStepNtXent(views, Samples);
        StepResult last = first;
        for (int i = 0; i < 30; i++)
        {
            last = trainer.TrainStepNtXent(views, Samples);
        }

        // With 2N = 8 views and τ = 0.5, chance (all similarities equal) is ln 7 = 1.946.
        Assert.InRange(first.Loss, 1.5, 2.5);
        Assert.True(last.Loss < 0.8 * first.Loss, $"loss went from {first.Loss} to {last.Loss}");
        Assert.Equal(31, trainer.Step);
        Assert.Equal(2, last.Temperature, 12);
    }

    [Fact]
    public void Supcon_training_on_fixed_views_drives_the_loss_down()
    {
        using var trainer = new ImageOnlyTrainer(TinyModels.Options, TinyModels.FastOptimizer, 200, 0.5, CPU, seed: 4);
        float[] views = TwinViews(Samples, seed: 4);
        long[] labels = [0, 0, 1, 1];

        StepResult first = trainer.TrainStepSupCon(views, labels, Samples);
        StepResult last = first;
        for (int i = 0; i < 30; i++)
        {
            last = trainer.TrainStepSupCon(views, labels, Samples);
        }

        Assert.True(double.IsFinite(first.Loss));
        Assert.True(last.Loss < 0.8 * first.Loss, $"loss went from {first.Loss} to {last.Loss}");
    }

    [Fact]
    public void Exported_embeddings_are_the_backbone_representation_as_unit_rows()
    {
        using var trainer = new ImageOnlyTrainer(TinyModels.Options, TinyModels.FastOptimizer, 10, 0.1, CPU, seed: 5);

        float[] embeddings = trainer.EmbedImages(TinyModels.Images(3, seed: 5), 3);

        // The last stage of TinyModels is 8 channels wide, as is EmbedDim; the head's output is not what is exported.
        int width = TinyModels.Options.ImageWidths[^1];
        Assert.Equal(width, trainer.ImageEmbeddingWidth);
        Assert.Equal(3 * width, embeddings.Length);
        for (int row = 0; row < 3; row++)
        {
            double norm = Math.Sqrt(embeddings.AsSpan(row * width, width).ToArray().Sum(v => (double)v * v));
            Assert.Equal(1, norm, 4);
        }
    }

    [Fact]
    public void A_checkpoint_of_an_image_only_trainer_restores_weights_and_step()
    {
        string directory = Path.Combine(Path.GetTempPath(), "dfc-image-only-" + Guid.NewGuid().ToString("N"));
        try
        {
            float[] views = TwinViews(Samples, seed: 6);
            float[] probe = TinyModels.Images(2, seed: 7);
            using var trained = new ImageOnlyTrainer(TinyModels.Options, TinyModels.FastOptimizer, 20, 0.5, CPU, 6);
            trained.TrainStepNtXent(views, Samples);
            trained.TrainStepNtXent(views, Samples);
            var store = new CheckpointStore(directory, keep: 1);
            store.Save(trained, "{}");

            using var restored = new ImageOnlyTrainer(TinyModels.Options, TinyModels.FastOptimizer, 20, 0.5, CPU, 9);
            CheckpointInfo? info = store.LoadLatest(restored);

            Assert.NotNull(info);
            Assert.Equal(2, restored.Step);
            Assert.Equal(trained.EmbedImages(probe, 2), restored.EmbedImages(probe, 2));
            Assert.Equal(trained.TrainStepNtXent(views, Samples).Loss, restored.TrainStepNtXent(views, Samples).Loss);
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    [Fact]
    public void Supcon_refuses_a_label_count_that_is_not_the_sample_count()
    {
        using var trainer = new ImageOnlyTrainer(TinyModels.Options, TinyModels.FastOptimizer, 10, 0.5, CPU, seed: 8);

        Assert.Throws<ArgumentException>(() => trainer.TrainStepSupCon(TwinViews(2, 8), [0], 2));
    }

    // Two views per sample: the second is the first plus a little noise, so twins are close but not equal.
    private static float[] TwinViews(int samples, int seed)
    {
        float[] first = TinyModels.Images(samples, seed);
        var random = new Random(seed + 100);
        float[] second = [.. first.Select(v => v + (float)((random.NextDouble() - 0.5) * 0.1))];
        return [.. first, .. second];
    }
}
