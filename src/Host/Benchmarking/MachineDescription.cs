using System.Runtime.InteropServices;

namespace DataflowContrastive.Host.Benchmarking;

/// <summary>Describes the machine a benchmark runs on, so that its figures can be read in context.</summary>
public static class MachineDescription
{
    /// <summary>
    /// The processor model, the core count and, on Linux, the load average when called (other work on a shared
    /// machine lowers every figure).
    /// </summary>
    public static string Describe()
    {
        string cpu = ReadLinuxValue("/proc/cpuinfo", "model name") ?? RuntimeInformation.ProcessArchitecture.ToString();
        string? load = ReadFirstLine("/proc/loadavg");
        string loadText = load is null ? "" : $", load average {string.Join(' ', load.Split(' ').Take(3))} at start";
        return $"{cpu}, {Environment.ProcessorCount} cores{loadText}, {RuntimeInformation.OSDescription}";
    }

    /// <summary>Whether the system's TurboJPEG library, which our JPEG decoder prefers, can be loaded.</summary>
    public static bool HasTurboJpeg() =>
        (NativeLibrary.TryLoad("libturbojpeg.so.0", out IntPtr library)
            || NativeLibrary.TryLoad("turbojpeg", out library))
        && NativeLibrary.TryGetExport(library, "tjDecompress2", out _);

    private static string? ReadLinuxValue(string path, string key) =>
        File.Exists(path)
            ? File.ReadLines(path).Where(l => l.StartsWith(key, StringComparison.Ordinal))
                .Select(l => l[(l.IndexOf(':', StringComparison.Ordinal) + 1)..].Trim()).FirstOrDefault()
            : null;

    private static string? ReadFirstLine(string path) =>
        File.Exists(path) ? File.ReadLines(path).FirstOrDefault() : null;
}
