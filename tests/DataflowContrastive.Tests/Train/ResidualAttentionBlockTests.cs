using System.Text.Json;
using DataflowContrastive.Train;
using static TorchSharp.torch;

namespace DataflowContrastive.Tests.Train;

public class ResidualAttentionBlockTests
{
    [Fact]
    public void Block_output_equals_pytorch_multihead_attention_with_a_causal_mask()
    {
        string path = Path.Combine(TestPaths.Fixtures, "Train", "attention_block.json");
        using JsonDocument document = JsonDocument.Parse(File.ReadAllBytes(path));
        JsonElement root = document.RootElement;
        using var block = new ResidualAttentionBlock(
            root.GetProperty("width").GetInt32(), root.GetProperty("heads").GetInt32());
        using var scope = NewDisposeScope();
        LoadParameters(block, root.GetProperty("parameters"));
        long[] shape = [.. root.GetProperty("shape").EnumerateArray().Select(d => d.GetInt64())];

        Tensor output = block.forward(tensor(Floats(root.GetProperty("input")), shape));

        float[] expected = Floats(root.GetProperty("output"));
        float[] actual = output.data<float>().ToArray();
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++)
        {
            Assert.True(Math.Abs(expected[i] - actual[i]) < 1e-4, $"element {i}: {expected[i]} vs {actual[i]}");
        }
    }

    private static void LoadParameters(ResidualAttentionBlock block, JsonElement parameters)
    {
        using var noGrad = no_grad();
        int loaded = 0;
        foreach ((string name, var parameter) in block.named_parameters())
        {
            float[] values = Floats(parameters.GetProperty(name));
            parameter.copy_(tensor(values).reshape(parameter.shape));
            loaded++;
        }
        Assert.Equal(parameters.EnumerateObject().Count(), loaded);
    }

    private static float[] Floats(JsonElement values) => [.. values.EnumerateArray().Select(v => v.GetSingle())];
}
