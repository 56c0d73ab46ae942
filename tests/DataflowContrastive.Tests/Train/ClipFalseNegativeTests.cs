using System.Text.Json;
using DataflowContrastive.Train;
using static TorchSharp.torch;

namespace DataflowContrastive.Tests.Train;

public class ClipFalseNegativeTests
{
    private const string File = "clip_false_negatives.json";

    public static TheoryData<string> Cases() => LossFixtures.Names(File);

    [Theory]
    [MemberData(nameof(Cases))]
    public void Clip_with_duplicates_equals_the_reference(string name)
    {
        JsonElement c = LossFixtures.Case(File, name);
        using var scope = NewDisposeScope();
        Tensor image_features = LossFixtures.Matrix(c.GetProperty("image_features")).requires_grad_(true);
        Tensor text_features = LossFixtures.Matrix(c.GetProperty("text_features"));
        Tensor logit_scale = tensor(c.GetProperty("logit_scale").GetSingle());
        Tensor duplicates = Mask(c.GetProperty("duplicates"));
        FalseNegativeMode mode = c.GetProperty("mode").GetString() == "positive"
            ? FalseNegativeMode.Positive
            : FalseNegativeMode.Masked;

        Tensor loss = ContrastiveLoss.Clip(image_features, text_features, logit_scale, duplicates, mode);
        loss.backward();

        LossFixtures.AssertClose(c.GetProperty("loss").GetDouble(), loss.item<float>(), "loss");
        JsonElement grad = c.GetProperty("grad_image_features");
        LossFixtures.AssertGradient(grad, image_features.grad!, LossFixtures.MaxAbs(grad));
    }

    [Fact]
    public void Without_a_mask_every_mode_is_plain_clip()
    {
        using var scope = NewDisposeScope();
        Tensor images = nn.functional.normalize(arange(12f).reshape(3, 4).sin(), dim: -1);
        Tensor texts = nn.functional.normalize(arange(12f).reshape(3, 4).cos(), dim: -1);
        Tensor t = tensor(2.5f);
        float plain = ContrastiveLoss.Clip(images, texts, t).item<float>();

        Assert.Equal(plain, ContrastiveLoss.Clip(images, texts, t, null, FalseNegativeMode.Positive).item<float>());
        Assert.Equal(plain, ContrastiveLoss.Clip(images, texts, t, ones(3, 3), FalseNegativeMode.Ignore).item<float>());
    }

    [Fact]
    public void A_mask_of_the_wrong_shape_is_refused()
    {
        using var scope = NewDisposeScope();
        Assert.Throws<ArgumentException>(() => ContrastiveLoss.Clip(
            ones(3, 2), ones(3, 2), tensor(1f), zeros(2, 2, dtype: ScalarType.Bool), FalseNegativeMode.Masked));
    }

    private static Tensor Mask(JsonElement rows)
    {
        bool[] values = [.. rows.EnumerateArray().SelectMany(row => row.EnumerateArray().Select(v => v.GetBoolean()))];
        int n = rows.GetArrayLength();
        return tensor(values, [n, n]);
    }
}
