using System.Text.Json;
using DataflowContrastive.Train;
using static TorchSharp.torch;

namespace DataflowContrastive.Tests.Train;

public class ContrastiveLossTests
{
    public static TheoryData<string> ClipCases() => LossFixtures.Names("clip_loss.json");

    [Theory]
    [MemberData(nameof(ClipCases))]
    public void Clip_loss_and_gradients_equal_pytorch(string name)
    {
        JsonElement c = LossFixtures.Case("clip_loss.json", name);
        using var scope = NewDisposeScope();
        Tensor image_features = LossFixtures.Matrix(c.GetProperty("image_features")).requires_grad_(true);
        Tensor text_features = LossFixtures.Matrix(c.GetProperty("text_features"));
        Tensor logit_scale = tensor(c.GetProperty("logit_scale").GetSingle()).requires_grad_(true);

        Tensor loss = ContrastiveLoss.Clip(image_features, text_features, logit_scale);
        loss.backward();

        LossFixtures.AssertClose(c.GetProperty("loss").GetDouble(), loss.item<float>(), "loss");
        LossFixtures.AssertClose(
            c.GetProperty("grad_logit_scale").GetDouble(), logit_scale.grad!.item<float>(), "gradient of t");
        JsonElement grad = c.GetProperty("grad_image_features");
        LossFixtures.AssertGradient(grad, image_features.grad!, LossFixtures.MaxAbs(grad));
    }

    [Fact]
    public void Perfectly_separated_pairs_at_the_clamp_have_a_loss_near_zero()
    {
        // Orthonormal pairs: logits are 100 on the diagonal and 0 elsewhere, so each cross-entropy is
        // log(1 + 2 e^-100), about 2.7e-43, by hand.
        using var scope = NewDisposeScope();
        Tensor features = eye(3);

        Tensor loss = ContrastiveLoss.Clip(features, features, tensor(10f));

        Assert.Equal(0, loss.item<float>(), 6);
    }

    [Fact]
    public void At_the_clamp_itself_t_still_gets_a_gradient()
    {
        // The trainer clamps t to float32(ln 100), whose exp is 100.0000076; t must still be able to come back down.
        using var scope = NewDisposeScope();
        Tensor images = nn.functional.normalize(arange(12f).reshape(3, 4).sin(), dim: -1);
        Tensor texts = nn.functional.normalize(arange(12f).reshape(3, 4).cos(), dim: -1);
        Tensor t = tensor((float)Math.Log(100)).requires_grad_(true);

        ContrastiveLoss.Clip(images, texts, t).backward();

        Assert.NotEqual(0f, t.grad!.item<float>());
    }

    [Fact]
    public void Batches_of_different_sizes_are_refused()
    {
        using var scope = NewDisposeScope();
        Assert.Throws<ArgumentException>(() => ContrastiveLoss.Clip(ones(3, 4), ones(2, 4), tensor(1f)));
    }
}
