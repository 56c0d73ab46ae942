using TorchSharp;

namespace DataflowContrastive.Tests.Train;

public class TorchLoadsTests
{
    [Fact]
    public void Matrix_product_of_known_values_is_computed_by_libtorch()
    {
        using var a = torch.tensor(new float[] { 1, 2, 3, 4 }, 2, 2);
        using var b = torch.tensor(new float[] { 5, 6, 7, 8 }, 2, 2);
        using var c = a.matmul(b);

        // [[1,2],[3,4]] x [[5,6],[7,8]] = [[19,22],[43,50]], by hand.
        Assert.Equal(new float[] { 19, 22, 43, 50 }, c.data<float>().ToArray());
    }
}
