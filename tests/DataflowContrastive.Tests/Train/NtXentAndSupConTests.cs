using System.Text.Json;
using DataflowContrastive.Train;
using static TorchSharp.torch;

namespace DataflowContrastive.Tests.Train;

public class NtXentAndSupConTests
{
    public static TheoryData<string> NtXentCases() => LossFixtures.Names("nt_xent.json");

    public static TheoryData<string> SupConCases() => LossFixtures.Names("supcon.json");

    [Theory]
    [MemberData(nameof(NtXentCases))]
    public void Nt_xent_loss_and_gradient_equal_the_reference(string name)
    {
        JsonElement c = LossFixtures.Case("nt_xent.json", name);
        using var scope = NewDisposeScope();
        Tensor views = LossFixtures.Matrix(c.GetProperty("views")).requires_grad_(true);

        Tensor loss = ContrastiveLoss.NtXent(views, c.GetProperty("temperature").GetDouble());
        loss.backward();

        LossFixtures.AssertClose(c.GetProperty("loss").GetDouble(), loss.item<float>(), "loss");
        JsonElement grad = c.GetProperty("grad_views");
        LossFixtures.AssertGradient(grad, views.grad!, LossFixtures.MaxAbs(grad));
    }

    [Theory]
    [MemberData(nameof(SupConCases))]
    public void Supcon_loss_and_gradient_equal_the_reference(string name)
    {
        JsonElement c = LossFixtures.Case("supcon.json", name);
        using var scope = NewDisposeScope();
        Tensor features = LossFixtures.Matrix(c.GetProperty("features")).requires_grad_(true);
        Tensor labels = tensor(c.GetProperty("labels").EnumerateArray().Select(l => l.GetInt64()).ToArray());

        Tensor loss = ContrastiveLoss.SupCon(features, labels, c.GetProperty("temperature").GetDouble());
        loss.backward();

        LossFixtures.AssertClose(c.GetProperty("loss").GetDouble(), loss.item<float>(), "loss");
        JsonElement grad = c.GetProperty("grad_features");
        LossFixtures.AssertGradient(grad, features.grad!, LossFixtures.MaxAbs(grad));
    }

    [Fact]
    public void Nt_xent_of_two_orthogonal_twins_is_hand_computable()
    {
        // 2N = 2: each row's only other row is its twin, so the softmax has one term and the loss is 0.
        using var scope = NewDisposeScope();

        Tensor loss = ContrastiveLoss.NtXent(eye(2), 0.5);

        Assert.Equal(0, loss.item<float>(), 6);
    }

    [Fact]
    public void Nt_xent_refuses_an_odd_number_of_views()
    {
        using var scope = NewDisposeScope();
        Assert.Throws<ArgumentException>(() => ContrastiveLoss.NtXent(ones(3, 2), 0.5));
    }

    [Fact]
    public void Supcon_refuses_a_temperature_of_zero()
    {
        using var scope = NewDisposeScope();
        Assert.Throws<ArgumentOutOfRangeException>(
            () => ContrastiveLoss.SupCon(ones(2, 2), tensor(new long[] { 0, 0 }), 0));
    }
}
