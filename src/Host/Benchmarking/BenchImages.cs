using Microsoft.Extensions.FileSystemGlobbing;

namespace DataflowContrastive.Host.Benchmarking;

/// <summary>Finds the image files a benchmark runs on.</summary>
public static class BenchImages
{
    private static readonly string[] Extensions = [".jpg", ".jpeg", ".png", ".webp"];

    /// <summary>
    /// The files named by <paramref name="entries"/>: a file is taken as it is, a folder is searched recursively
    /// for JPEG, PNG and WebP files, and a pattern with <c>*</c> or <c>**</c> (no <c>?</c>) is matched below its
    /// fixed leading folders, keeping image files. Relative entries are resolved against
    /// <paramref name="baseDirectory"/>. Returns full paths, without duplicates, in ordinal order.
    /// </summary>
    public static IReadOnlyList<string> Find(IEnumerable<string> entries, string baseDirectory)
    {
        ArgumentNullException.ThrowIfNull(entries);
        ArgumentException.ThrowIfNullOrWhiteSpace(baseDirectory);
        var found = new SortedSet<string>(StringComparer.Ordinal);
        foreach (string entry in entries)
        {
            found.UnionWith(Expand(entry, baseDirectory));
        }
        return [.. found];
    }

    /// <summary>
    /// The repository's root: the nearest folder at or above <paramref name="start"/> that holds
    /// <c>DataflowContrastive.sln</c>; null outside a checkout.
    /// </summary>
    public static string? FindRepositoryRoot(string start)
    {
        for (DirectoryInfo? folder = new(start); folder is not null; folder = folder.Parent)
        {
            if (File.Exists(Path.Combine(folder.FullName, "DataflowContrastive.sln")))
            {
                return folder.FullName;
            }
        }
        return null;
    }

    private static IEnumerable<string> Expand(string entry, string baseDirectory)
    {
        string full = Path.GetFullPath(entry, baseDirectory);
        if (!entry.Contains('*', StringComparison.Ordinal))
        {
            if (File.Exists(full))
            {
                return [full];
            }
            return Directory.Exists(full) ? Glob(full, "**/*") : [];
        }

        // The fixed folders before the first wildcard are the root; the rest is the pattern below it.
        string[] parts = full.Split(Path.DirectorySeparatorChar);
        int firstWild = Array.FindIndex(parts, p => p.Contains('*', StringComparison.Ordinal));
        string root = string.Join(Path.DirectorySeparatorChar, parts[..firstWild]);
        string pattern = string.Join('/', parts[firstWild..]);
        return Directory.Exists(root) ? Glob(root, pattern) : [];
    }

    private static IEnumerable<string> Glob(string root, string pattern)
    {
        var matcher = new Matcher(StringComparison.Ordinal);
        matcher.AddInclude(pattern);
        return matcher.GetResultsInFullPath(root)
            .Where(path => Extensions.Contains(Path.GetExtension(path).ToLowerInvariant()));
    }
}
