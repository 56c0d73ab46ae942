using DataflowContrastive.Host.Benchmarking;
using DataflowContrastive.Host.Commands;

namespace DataflowContrastive.Tests.Host;

/// <summary>What <c>dfc bench</c> does before it measures anything: arguments and finding the files.</summary>
public sealed class BenchCommandTests : IDisposable
{
    private readonly string _work = Directory.CreateTempSubdirectory("dfc-bench-").FullName;

    public void Dispose() => Directory.Delete(_work, recursive: true);

    [Theory]
    [InlineData("--json")]
    [InlineData("decode")]
    [InlineData("augment", "--recipe", "clip")]
    [InlineData("augment", "--sizes", "224,0")]
    [InlineData("augment", "--workers", "0")]
    [InlineData("augment", "--workers", "257")]
    [InlineData("augment", "--images")]
    [InlineData("augment", "--minutes", "-1")]
    [InlineData("augment", "--speed")]
    [InlineData("augment", "--tjbench-files", "0")]
    public async Task A_usage_error_exits_2_and_says_what_is_wrong(params string[] args)
    {
        var output = new StringWriter();
        var error = new StringWriter();

        int exitCode = await BenchCommand.RunAsync(args, output, error, CancellationToken.None);

        Assert.Equal(2, exitCode);
        Assert.Equal("", output.ToString());
        Assert.StartsWith("dfc bench: ", error.ToString(), StringComparison.Ordinal);
        Assert.Contains("usage: dfc bench augment", error.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Images_that_match_nothing_exit_1_before_anything_is_measured()
    {
        var error = new StringWriter();

        int exitCode = await BenchCommand.RunAsync(["augment", "--images", _work], new StringWriter(), error,
            CancellationToken.None);

        Assert.Equal(1, exitCode);
        Assert.Contains($"no image files found at {_work}", error.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void Folders_are_searched_for_images_and_globs_keep_image_files()
    {
        string[] names = ["a.jpg", "b.PNG", "notes.txt", Path.Combine("sub", "c.jpeg"), Path.Combine("sub", "d.webp")];
        Directory.CreateDirectory(Path.Combine(_work, "sub"));
        foreach (string name in names)
        {
            File.WriteAllBytes(Path.Combine(_work, name), [0]);
        }

        IReadOnlyList<string> all = BenchImages.Find([_work], "/");
        IReadOnlyList<string> jpegs = BenchImages.Find(["**/*.jp*g", Path.Combine(_work, "a.jpg")], _work);

        Assert.Equal(["a.jpg", "b.PNG", "sub/c.jpeg", "sub/d.webp"],
            all.Select(p => Path.GetRelativePath(_work, p).Replace('\\', '/')));
        Assert.Equal(["a.jpg", "sub/c.jpeg"], jpegs.Select(p => Path.GetRelativePath(_work, p).Replace('\\', '/')));
    }

    [Fact]
    public void The_repository_root_is_found_from_a_folder_inside_it()
    {
        string inside = Path.Combine(_work, "src", "Host");
        Directory.CreateDirectory(inside);
        File.WriteAllText(Path.Combine(_work, "DataflowContrastive.sln"), "");

        Assert.Equal(_work, BenchImages.FindRepositoryRoot(inside));
    }
}
