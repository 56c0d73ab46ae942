using DataflowContrastive.Host.Commands;

namespace DataflowContrastive.Tests.Host;

/// <summary>
/// A few labelled images of the CIFAR-10 test set (32x32 JPEGs, one folder per class, under the shared data),
/// packed into Parquet in a test's own folder: CIFAR images are not committed to the repository.
/// </summary>
internal static class TinyCifar
{
    /// <summary>Packs the first <paramref name="perClass"/> images of each of the 10 classes; returns the folder.
    /// </summary>
    public static string Pack(string work, int perClass)
    {
        string output = Path.Combine(work, $"cifar-{perClass}");
        // Each test packs into its own folder, once.
        if (!Directory.Exists(output))
        {
            int exitCode = CommandLine.DispatchAsync(["pack", "--class-folders",
                    TestPaths.Shared("data", "cifar10-test"), "--per-class",
                    perClass.ToString(System.Globalization.CultureInfo.InvariantCulture), "--out", output],
                CancellationToken.None).GetAwaiter().GetResult();
            Assert.Equal(0, exitCode);
        }
        return output;
    }
}
