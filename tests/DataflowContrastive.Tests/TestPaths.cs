namespace DataflowContrastive.Tests;

/// <summary>Locations that tests read from: the repository itself and the shared data beside it.</summary>
public static class TestPaths
{
    /// <summary>The folder that holds <c>DataflowContrastive.sln</c>.</summary>
    public static string RepoRoot { get; } = FindRepoRoot();

    /// <summary><c>../shared</c> from the repository root: real data and inputs that broke other pipelines.</summary>
    public static string SharedRoot => Path.GetFullPath(Path.Combine(RepoRoot, "..", "shared"));

    /// <summary>Fixtures copied beside the test assembly.</summary>
    public static string Fixtures => Path.Combine(AppContext.BaseDirectory, "Fixtures");

    public static string Shared(params string[] parts) => Path.Combine([SharedRoot, .. parts]);

    public static string Repo(params string[] parts) => Path.Combine([RepoRoot, .. parts]);

    private static string FindRepoRoot()
    {
        for (DirectoryInfo? dir = new(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "DataflowContrastive.sln")))
            {
                return dir.FullName;
            }
        }
        throw new InvalidOperationException($"No DataflowContrastive.sln above {AppContext.BaseDirectory}.");
    }
}
