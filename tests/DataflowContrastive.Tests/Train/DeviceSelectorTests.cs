using DataflowContrastive.Train;
using static TorchSharp.torch;

namespace DataflowContrastive.Tests.Train;

public class DeviceSelectorTests
{
    [Fact]
    public void Cpu_resolves_to_the_cpu()
    {
        Assert.Equal(TorchSharp.DeviceType.CPU, DeviceSelector.Resolve("cpu").type);
        Assert.Equal(TorchSharp.DeviceType.CPU, DeviceSelector.Resolve(" CPU ").type);
    }

    [Fact]
    public void Auto_picks_cuda_exactly_when_libtorch_sees_a_gpu()
    {
        var expected = cuda.is_available() ? TorchSharp.DeviceType.CUDA : TorchSharp.DeviceType.CPU;

        Assert.Equal(expected, DeviceSelector.Resolve("auto").type);
    }

    [Fact]
    public void Cuda_without_a_gpu_is_refused_with_a_message_that_says_so()
    {
        if (cuda.is_available())
        {
            Assert.Equal(TorchSharp.DeviceType.CUDA, DeviceSelector.Resolve("cuda").type);
            return;
        }

        var error = Assert.Throws<ArgumentException>(() => DeviceSelector.Resolve("cuda"));
        Assert.Contains("no usable GPU", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Unknown_names_are_refused()
    {
        var error = Assert.Throws<ArgumentException>(() => DeviceSelector.Resolve("tpu"));
        Assert.Contains("'tpu'", error.Message, StringComparison.Ordinal);
    }
}
