using System.Text;
using DataflowContrastive.Host.Pipelines;
using DataflowContrastive.Host.Running;
using DataflowContrastive.Tests.Train;
using DataflowContrastive.Train;
using static TorchSharp.torch;

namespace DataflowContrastive.Tests.Host;

/// <summary>
/// <c>loss.false_negatives</c> reaches CLIP's loss: a batch whose first two captions differ only in case and white
/// space trains exactly as the trainer does when handed the duplicate mask for rows 0 and 1 by hand.
/// </summary>
[Collection(SharedTorchGenerator.Name)]
public class ClipFalseNegativeKeyTests
{
    private const int Batch = 4;

    private static readonly string[] Captions = ["A dog", "  a  DOG\n", "a cat", "a bird"];

    [Theory]
    [InlineData("positives", FalseNegativeMode.Positive)]
    [InlineData("mask", FalseNegativeMode.Masked)]
    public void Duplicate_captions_in_a_batch_are_treated_as_the_file_says(string key, FalseNegativeMode mode)
    {
        bool[] mask = new bool[Batch * Batch];
        mask[1] = mask[Batch] = true;

        double viaPipeline = StepThroughPipeline(key);
        using var direct = NewTrainer();
        double expected = direct.TrainStep(TinyModels.Images(Batch, 11), TinyModels.Tokens(Batch), Batch, mask, mode)
            .Loss;
        using var plain = NewTrainer();
        double plainLoss = plain.TrainStep(TinyModels.Images(Batch, 11), TinyModels.Tokens(Batch), Batch).Loss;

        Assert.Equal(expected, viaPipeline, 6);
        Assert.NotEqual(plainLoss, viaPipeline, 3);
    }

    [Fact]
    public void With_false_negatives_off_duplicates_stay_negatives()
    {
        using var plain = NewTrainer();
        double expected = plain.TrainStep(TinyModels.Images(Batch, 11), TinyModels.Tokens(Batch), Batch).Loss;

        Assert.Equal(expected, StepThroughPipeline("off"), 6);
    }

    [Fact]
    public void Captions_are_compared_with_white_space_collapsed_and_case_folded()
    {
        Assert.Equal("a dog on a mat", FalseNegativeKeys.NormaliseCaption("  A\tdog  on\na MAT "));
        Assert.Equal(FalseNegativeKeys.Of([1, 2], "A dog").Caption, FalseNegativeKeys.Of([3], "a  DOG\n").Caption);
        Assert.NotEqual(FalseNegativeKeys.Of([1, 2], "a dog").Caption, FalseNegativeKeys.Of([1, 2], "a dot").Caption);
        Assert.Equal(FalseNegativeKeys.Of([1, 2], "x").Image, FalseNegativeKeys.Of([1, 2], "y").Image);
        Assert.NotEqual(FalseNegativeKeys.Of([1, 2], "x").Image, FalseNegativeKeys.Of([1, 3], "x").Image);
    }

    private static double StepThroughPipeline(string falseNegatives)
    {
        PipelineDefinition definition = PipelineFileReader.Parse($"""
            source: {"{"} shards: s {"}"}
            images: {"{"} size: {TinyModels.Options.ImageSize} {"}"}
            batch: {"{"} size: {Batch} {"}"}
            model: {"{"} context_length: {TinyModels.Options.ContextLength} {"}"}
            loss: {"{"} false_negatives: {falseNegatives} {"}"}
            """, "/pipelines/fn.yaml");
        using var trainer = NewTrainer();
        return BatchSteps.For(definition, trainer).Run(Samples()).Loss;
    }

    private static ClipTrainer NewTrainer() =>
        new(TinyModels.Options, TinyModels.FastOptimizer, totalSteps: 10, CPU, seed: 11);

    // Images as TinyModels draws them, distinct image bytes, and the captions above.
    private static PreparedSample[] Samples()
    {
        int pixels = 3 * TinyModels.Options.ImageSize * TinyModels.Options.ImageSize;
        int context = TinyModels.Options.ContextLength;
        float[] images = TinyModels.Images(Batch, 11);
        long[] tokens = TinyModels.Tokens(Batch);
        return [.. Enumerable.Range(0, Batch).Select(i => new PreparedSample
        {
            Epoch = 0,
            Index = i,
            Key = $"k{i}",
            Caption = Captions[i],
            Pixels = images.AsSpan(i * pixels, pixels).ToArray(),
            Tokens = tokens.AsSpan(i * context, context).ToArray(),
            DuplicateKeys = FalseNegativeKeys.Of(Encoding.UTF8.GetBytes($"image {i}"), Captions[i]),
        })];
    }
}
