using static TorchSharp.torch;

namespace DataflowContrastive.Train;

/// <summary>Turns a device name from the pipeline's settings into a torch device.</summary>
public static class DeviceSelector
{
    /// <summary>
    /// Resolves "auto" (CUDA when libtorch sees a GPU, otherwise the CPU), "cpu", "cuda" or "cuda:N".
    /// </summary>
    /// <exception cref="ArgumentException">The name is unknown, or names CUDA while no GPU is usable.</exception>
    public static Device Resolve(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        string normalized = name.Trim().ToLowerInvariant();

        if (normalized == "auto")
        {
            return cuda.is_available() ? CUDA : CPU;
        }
        if (normalized == "cpu")
        {
            return CPU;
        }
        if (normalized == "cuda" || normalized.StartsWith("cuda:", StringComparison.Ordinal))
        {
            return ResolveCuda(name, normalized);
        }
        throw new ArgumentException($"Unknown device '{name}': use auto, cpu, cuda or cuda:N.", nameof(name));
    }

    private static Device ResolveCuda(string name, string normalized)
    {
        if (!cuda.is_available())
        {
            throw new ArgumentException(
                $"Device '{name}' asks for CUDA, but libtorch sees no usable GPU. This build carries the libtorch "
                + "backend chosen at build time (TorchBackend); use device 'cpu' or 'auto', or build with a CUDA "
                + "backend on a machine with a GPU.", nameof(name));
        }

        int index = 0;
        if (normalized.Length > "cuda".Length
            && (!int.TryParse(normalized.AsSpan("cuda:".Length), out index) || index < 0
                || index >= cuda.device_count()))
        {
            throw new ArgumentException(
                $"Device '{name}' names no GPU: {cuda.device_count()} are visible, numbered from 0.", nameof(name));
        }
        return new Device(TorchSharp.DeviceType.CUDA, index);
    }
}
