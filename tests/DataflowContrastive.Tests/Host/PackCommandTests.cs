using System.Globalization;
using DataflowContrastive.Host.Commands;

namespace DataflowContrastive.Tests.Host;

public sealed class PackCommandTests : IDisposable
{
    private readonly string _work = Directory.CreateTempSubdirectory("dfc-pack-").FullName;

    public void Dispose() => Directory.Delete(_work, recursive: true);

    [Theory]
    [InlineData("--row-group-size", "0")]
    [InlineData("--row-group-size", "-3")]
    [InlineData("--rows-per-shard", "0")]
    public async Task A_size_below_one_is_refused_naming_the_option(string option, string value)
    {
        (int exitCode, string error) = await PackAsync("--table", Table(), "--out", Out(), option, value);

        Assert.Equal(2, exitCode);
        Assert.StartsWith($"dfc pack: {option} must be a whole number of at least 1, was '{value}'.", error,
            StringComparison.Ordinal);
        Assert.DoesNotContain("Parameter", error, StringComparison.Ordinal);
        Assert.False(Directory.Exists(Out()));
    }

    [Fact]
    public async Task A_prefix_that_is_no_plain_file_name_is_refused_naming_the_option()
    {
        (int exitCode, string error) = await PackAsync("--table", Table(), "--out", Out(), "--prefix", "a/b");

        Assert.Equal(2, exitCode);
        Assert.StartsWith("dfc pack: --prefix must be a plain file name, without '/', was 'a/b'.", error,
            StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_folder_given_as_the_table_is_told_as_a_folder()
    {
        string folder = Directory.CreateDirectory(Path.Combine(_work, "images")).FullName;

        (int exitCode, string error) = await PackAsync("--table", folder, "--out", Out());

        Assert.Equal(2, exitCode);
        Assert.StartsWith($"dfc pack: --table: {folder} is a folder, not a table file (CSV or TSV).", error,
            StringComparison.Ordinal);
        Assert.False(Directory.Exists(Out()));
    }

    [Fact]
    public async Task A_file_given_as_the_output_folder_is_a_usage_error_and_is_left_alone()
    {
        string file = Path.Combine(_work, "taken");
        await File.WriteAllTextAsync(file, "keep me");

        (int exitCode, string error) = await PackAsync("--table", Table(), "--out", file);

        Assert.Equal(2, exitCode);
        Assert.StartsWith($"dfc pack: --out: {file} is a file; --out names a folder.", error,
            StringComparison.Ordinal);
        Assert.Equal("keep me", await File.ReadAllTextAsync(file));
    }

    [Fact]
    public async Task A_file_given_as_a_class_folder_is_told_as_a_file()
    {
        string file = Table();

        (int exitCode, string error) = await PackAsync("--class-folders", file, "--out", Out());

        Assert.Equal(2, exitCode);
        Assert.StartsWith($"dfc pack: --class-folders: {file} is a file; --class-folders names a folder.", error,
            StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_empty_value_is_refused_naming_the_option()
    {
        (int exitCode, string error) = await PackAsync("--table", "", "--out", Out());

        Assert.Equal(2, exitCode);
        Assert.StartsWith("dfc pack: --table needs a value, and was given an empty one", error,
            StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_largest_per_class_count_after_a_skip_takes_the_rest_of_each_class()
    {
        string cats = Directory.CreateDirectory(Path.Combine(_work, "classes", "cat")).FullName;
        foreach (string name in new[] { "chelsea.png", "coffee.png", "camera.png" })
        {
            File.Copy(TestPaths.Shared("data", "skimage-clip", name), Path.Combine(cats, name));
        }

        string most = int.MaxValue.ToString(CultureInfo.InvariantCulture);

        (int exitCode, string error) = await PackAsync("--class-folders", Path.GetDirectoryName(cats)!,
            "--out", Out(), "--skip-per-class", "1", "--per-class", most);

        // Three images in name order, the first skipped: camera.png is left out, two rows remain.
        Assert.True(exitCode == 0, error);
        Assert.Equal(2, await ServeKit.RowsAsync(Path.Combine(Out(), "shard-00000.parquet")));
    }

    private string Table()
    {
        string table = Path.Combine(_work, "pairs.csv");
        File.WriteAllText(table, "image,caption\nmissing.png,a cat\n");
        return table;
    }

    private string Out() => Path.Combine(_work, "out");

    private static async Task<(int ExitCode, string Error)> PackAsync(params string[] args)
    {
        using var error = new StringWriter();
        int exitCode = await PackCommand.RunAsync(args, TextWriter.Null, error, CancellationToken.None);
        return (exitCode, error.ToString());
    }
}
