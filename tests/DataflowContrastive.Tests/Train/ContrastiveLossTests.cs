using System.Text.Json;
using DataflowContrastive.Train;
using static TorchSharp.torch;

namespace DataflowContrastive.Tests.Train;

public class ContrastiveLossTests
{
    public static TheoryData<string> ClipCases() => [.. Fixture().Select(c => c.GetProperty("name").GetString()!)];

    [Theory]
    [MemberData(nameof(ClipCases))]
    public void Clip_loss_and_gradients_equal_pytorch(string name)
    {
        JsonElement c = Fixture().Single(x => x.GetProperty("name").GetString() == name);
        using var scope = NewDisposeScope();
        Tensor image_features = Matrix(c.GetProperty("image_features")).requires_grad_(true);
        Tensor text_features = Matrix(c.GetProperty("text_features"));
        Tensor logit_scale = tensor(c.GetProperty("logit_scale").GetSingle()).requires_grad_(true);

        Tensor loss = ContrastiveLoss.Clip(image_features, text_features, logit_scale);
        loss.backward();

        AssertClose(c.GetProperty("loss").GetDouble(), loss.item<float>());
        AssertClose(c.GetProperty("grad_logit_scale").GetDouble(), logit_scale.grad!.item<float>());
        float[] expectedGrad = Flatten(c.GetProperty("grad_image_features"));
        float[] actualGrad = image_features.grad!.data<float>().ToArray();
        for (int i = 0; i < expectedGrad.Length; i++)
        {
            AssertClose(expectedGrad[i], actualGrad[i]);
        }
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
    public void Batches_of_different_sizes_are_refused()
    {
        using var scope = NewDisposeScope();
        Assert.Throws<ArgumentException>(() => ContrastiveLoss.Clip(ones(3, 4), ones(2, 4), tensor(1f)));
    }

    private static void AssertClose(double expected, double actual)
    {
        double tolerance = 1e-5 + (2e-5 * Math.Abs(expected));
        Assert.True(Math.Abs(expected - actual) <= tolerance, $"expected {expected}, got {actual}");
    }

    private static JsonElement[] Fixture()
    {
        string path = Path.Combine(TestPaths.Fixtures, "Train", "clip_loss.json");
        using JsonDocument document = JsonDocument.Parse(File.ReadAllBytes(path));
        return [.. document.RootElement.GetProperty("cases").EnumerateArray().Select(c => c.Clone())];
    }

    private static Tensor Matrix(JsonElement rows)
    {
        int n = rows.GetArrayLength();
        float[] values = Flatten(rows);
        return tensor(values, [n, values.Length / n]);
    }

    private static float[] Flatten(JsonElement rows) =>
        [.. rows.EnumerateArray().SelectMany(row => row.EnumerateArray().Select(v => v.GetSingle()))];
}
