using System.Text;
using System.Text.RegularExpressions;
using Microsoft.Extensions.FileSystemGlobbing;

namespace DataflowContrastive.Ingest;

/// <summary>Turns the paths, folders and globs of a pipeline file into the list of Parquet shards to read.</summary>
public static class ShardDiscovery
{
    private static readonly byte[] ParquetMagic = "PAR1"u8.ToArray();

    /// <summary>
    /// Finds the shards named by <paramref name="pathsOrGlobs"/>: a file is taken as it is, a folder is searched
    /// recursively, and a pattern with <c>*</c>, <c>**</c> or <c>?</c> is matched below its fixed leading folders.
    /// Relative entries are resolved against <paramref name="baseDirectory"/>. Only files that start with
    /// <c>PAR1</c> are kept; <c>.crc</c> files and hidden files are skipped. Hidden means, as in Hadoop and Spark,
    /// a name starting with <c>.</c> or <c>_</c> (<c>_SUCCESS</c>, <c>_metadata</c> summaries, whose row groups
    /// point into other files), or a file inside such a folder below the searched one (<c>_temporary</c>).
    /// An entry that matches nothing adds nothing. Returns full paths, without duplicates, in ordinal order.
    /// </summary>
    public static IReadOnlyList<string> Find(IEnumerable<string> pathsOrGlobs, string baseDirectory)
    {
        ArgumentNullException.ThrowIfNull(pathsOrGlobs);
        ArgumentException.ThrowIfNullOrWhiteSpace(baseDirectory);

        var found = new SortedSet<string>(StringComparer.Ordinal);
        foreach (string entry in pathsOrGlobs)
        {
            ArgumentException.ThrowIfNullOrWhiteSpace(entry, nameof(pathsOrGlobs));
            foreach (string candidate in Expand(entry, baseDirectory))
            {
                if (!IsJunkName(Path.GetFileName(candidate)) && StartsWithParquetMagic(candidate))
                {
                    found.Add(candidate);
                }
            }
        }
        return [.. found];
    }

    private static IEnumerable<string> Expand(string entry, string baseDirectory)
    {
        string full = Path.GetFullPath(entry, baseDirectory);
        if (entry.AsSpan().IndexOfAny('*', '?') < 0)
        {
            if (File.Exists(full))
            {
                return [full];
            }
            return Directory.Exists(full) ? Glob(full, "**/*") : [];
        }

        // The fixed folders before the first wildcard are the root; the rest is the pattern below it.
        string[] parts = full.Split(Path.DirectorySeparatorChar);
        int firstWild = Array.FindIndex(parts, p => p.AsSpan().IndexOfAny('*', '?') >= 0);
        string root = string.Join(Path.DirectorySeparatorChar, parts[..firstWild]);
        string pattern = string.Join('/', parts[firstWild..]);
        return Directory.Exists(root) ? Glob(root, pattern) : [];
    }

    private static IEnumerable<string> Glob(string root, string pattern)
    {
        // The matcher knows '*' and '**' but not '?': it matches '?' as '*' and the exact pattern filters after.
        var matcher = new Matcher(StringComparison.Ordinal);
        matcher.AddInclude(pattern.Replace('?', '*'));
        IEnumerable<string> matches = matcher.GetResultsInFullPath(root)
            .Where(path => !InHiddenFolder(Path.GetRelativePath(root, path)));
        if (!pattern.Contains('?', StringComparison.Ordinal))
        {
            return matches;
        }
        Regex exact = ToRegex(pattern);
        return matches.Where(path => exact.IsMatch(Path.GetRelativePath(root, path).Replace('\\', '/')));
    }

    private static Regex ToRegex(string pattern)
    {
        var regex = new StringBuilder("^");
        for (int i = 0; i < pattern.Length; i++)
        {
            if (pattern.AsSpan(i).StartsWith("**/"))
            {
                regex.Append("(.*/)?");
                i += 2;
            }
            else if (pattern.AsSpan(i).StartsWith("**"))
            {
                regex.Append(".*");
                i++;
            }
            else
            {
                regex.Append(pattern[i] switch
                {
                    '*' => "[^/]*",
                    '?' => "[^/]",
                    char c => Regex.Escape(c.ToString()),
                });
            }
        }
        return new Regex(regex.Append('$').ToString(), RegexOptions.CultureInvariant);
    }

    private static bool IsJunkName(string name) =>
        name.StartsWith('.') || name.StartsWith('_') || name.EndsWith(".crc", StringComparison.OrdinalIgnoreCase);

    private static bool InHiddenFolder(string relativePath)
    {
        string[] parts = relativePath.Split(Path.DirectorySeparatorChar, Path.AltDirectorySeparatorChar);
        return parts[..^1].Any(part => part.StartsWith('.') || part.StartsWith('_'));
    }

    private static bool StartsWithParquetMagic(string path)
    {
        Span<byte> head = stackalloc byte[4];
        try
        {
            using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
            return stream.ReadAtLeast(head, head.Length, throwOnEndOfStream: false) == head.Length
                && head.SequenceEqual(ParquetMagic);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // Kept rather than dropped: the reader retries it and, if it stays unreadable, reports it by name.
            return true;
        }
    }
}
