using DataflowContrastive.Train;
using static TorchSharp.torch;

namespace DataflowContrastive.Tests.Train;

[Collection(SharedTorchGenerator.Name)]
public sealed class CheckpointStoreTests : IDisposable
{
    private const int Batch = 4;
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "dfc-checkpoints-" + Guid.NewGuid());
    private readonly float[] _images = TinyModels.Images(Batch, seed: 11);
    private readonly long[] _tokens = TinyModels.Tokens(Batch);

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    [Fact]
    public void A_restored_trainer_has_the_same_weights_and_takes_the_same_next_step()
    {
        var store = new CheckpointStore(_directory, keep: 3);
        using ClipTrainer original = Trainer(seed: 1);
        original.TrainStep(_images, _tokens, Batch);
        original.TrainStep(_images, _tokens, Batch);
        store.Save(original, """{"batch": 4}""");

        using ClipTrainer restored = Trainer(seed: 2);
        CheckpointInfo? info = store.LoadLatest(restored);

        Assert.NotNull(info);
        Assert.Equal(2, info.Step);
        Assert.Equal(2, restored.Step);
        Assert.Equal(original.SkippedSteps, restored.SkippedSteps);
        Assert.Equal("""{"batch": 4}""", info.SettingsJson);
        Assert.Equal(original.Temperature, info.Temperature, 6);
        AssertSameWeights(original, restored);

        // The next step depends on AdamW's moments, so equal results mean the optimiser state came back too.
        StepResult expected = original.TrainStep(_images, _tokens, Batch);
        StepResult actual = restored.TrainStep(_images, _tokens, Batch);
        Assert.Equal(expected, actual);
        AssertSameWeights(original, restored);
    }

    [Fact]
    public void Only_the_newest_checkpoints_are_kept()
    {
        var store = new CheckpointStore(_directory, keep: 2);
        using ClipTrainer trainer = Trainer(seed: 3);

        for (int i = 0; i < 3; i++)
        {
            trainer.TrainStep(_images, _tokens, Batch);
            store.Save(trainer, "{}");
        }

        Assert.Equal(["step-00000002", "step-00000003"], store.List().Select(Path.GetFileName));
    }

    [Fact]
    public void A_directory_left_by_a_crashed_save_is_ignored()
    {
        var store = new CheckpointStore(_directory, keep: 2);
        using ClipTrainer trainer = Trainer(seed: 4);
        trainer.TrainStep(_images, _tokens, Batch);
        store.Save(trainer, "{}");
        string leftover = Directory.CreateDirectory(Path.Combine(_directory, ".tmp-step-00000009-crashed")).FullName;
        File.WriteAllText(Path.Combine(leftover, "model.bin"), "half written");

        using ClipTrainer restored = Trainer(seed: 5);
        CheckpointInfo? info = store.LoadLatest(restored);

        Assert.Equal(1, info?.Step);
        Assert.Single(store.List());
    }

    [Fact]
    public void An_empty_directory_has_nothing_to_restore()
    {
        var store = new CheckpointStore(_directory, keep: 1);
        using ClipTrainer trainer = Trainer(seed: 6);

        Assert.Null(store.LoadLatest(trainer));
        Assert.Equal(0, trainer.Step);
    }

    [Fact]
    public void Saving_the_same_step_twice_leaves_one_checkpoint()
    {
        var store = new CheckpointStore(_directory, keep: 3);
        using ClipTrainer trainer = Trainer(seed: 7);

        store.Save(trainer, """{"try": 1}""");
        store.Save(trainer, """{"try": 2}""");

        Assert.Equal(["step-00000000"], store.List().Select(Path.GetFileName));
        Assert.Equal("""{"try": 2}""", store.LoadLatest(trainer)?.SettingsJson);
        Assert.Empty(Directory.GetDirectories(_directory, ".tmp-*"));
    }

    [Fact]
    public void Settings_that_are_not_json_are_refused()
    {
        var store = new CheckpointStore(_directory, keep: 1);
        using ClipTrainer trainer = Trainer(seed: 8);

        Assert.Throws<ArgumentException>(() => store.Save(trainer, "batch: 4"));
    }

    [Fact]
    public void A_checkpoint_of_another_model_shape_is_reported_as_unreadable()
    {
        var store = new CheckpointStore(_directory, keep: 1);
        using (ClipTrainer small = Trainer(seed: 9))
        {
            store.Save(small, "{}");
        }

        var wider = new ModelOptions
        {
            EmbedDim = 16, ImageSize = 8, ImageWidths = [4, 8], TextWidth = 16, TextLayers = 1, TextHeads = 2,
            ContextLength = 6, VocabularySize = TinyModels.Vocabulary,
        };
        using var trainer = new ClipTrainer(wider, TinyModels.FastOptimizer, 20, CPU, seed: 9);

        var error = Assert.Throws<InvalidDataException>(() => store.LoadLatest(trainer));
        Assert.Contains("step-00000000", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_truncated_model_file_is_reported_as_unreadable()
    {
        var store = new CheckpointStore(_directory, keep: 1);
        using ClipTrainer trainer = Trainer(seed: 10);
        string path = store.Save(trainer, "{}");
        string model = Path.Combine(path, "model.bin");
        File.WriteAllBytes(model, File.ReadAllBytes(model)[..100]);

        var error = Assert.Throws<InvalidDataException>(() => store.LoadLatest(trainer));
        Assert.Contains(path, error.Message, StringComparison.Ordinal);
    }

    private static ClipTrainer Trainer(long seed) =>
        new(TinyModels.Options, TinyModels.FastOptimizer, totalSteps: 20, CPU, seed);

    private static void AssertSameWeights(ClipTrainer expected, ClipTrainer actual)
    {
        using var scope = NewDisposeScope();
        var actualParameters = actual.Model.named_parameters().ToDictionary(p => p.name, p => p.parameter);
        foreach ((string name, var parameter) in expected.Model.named_parameters())
        {
            Assert.True(parameter.eq(actualParameters[name]).all().item<bool>(), $"{name} differs");
        }
    }
}
