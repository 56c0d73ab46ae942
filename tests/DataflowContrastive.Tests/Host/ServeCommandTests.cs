using DataflowContrastive.Host.Commands;
using DataflowContrastive.Host.Serving;

namespace DataflowContrastive.Tests.Host;

public sealed class ServeCommandTests : IDisposable
{
    private readonly string _work = Directory.CreateTempSubdirectory("dfc-serve-command-").FullName;

    public void Dispose() => Directory.Delete(_work, recursive: true);

    [Fact]
    public void Options_are_parsed_and_the_files_kept_in_order()
    {
        ServeCommand.Arguments parsed = ServeCommand.Parse(
            ["a.yaml", "--grace", "90", "b.yaml", "--once", "--metrics-port", "9464", "--health-port", "8081"]);

        Assert.Equal(["a.yaml", "b.yaml"], parsed.Files);
        Assert.Equal((true, TimeSpan.FromSeconds(90), (int?)9464, (int?)8081),
            (parsed.Once, parsed.Grace, parsed.MetricsPort, parsed.HealthPort));
    }

    [Theory]
    [InlineData("--grace", "soon")]
    [InlineData("--metrics-port", "70000")]
    [InlineData("--loud", "a.yaml")]
    public void A_bad_option_is_a_usage_error(string option, string value)
    {
        Assert.Throws<ArgumentException>(() => ServeCommand.Parse(["a.yaml", option, value]));
    }

    [Fact]
    public async Task A_pipeline_with_nothing_to_start_a_pass_is_refused_before_any_work_unless_once()
    {
        string pipeline = ServeKit.WritePipeline(_work, "idle", "steps_per_shard: 2");

        Assert.Equal(2, await ServeCommand.RunAsync([pipeline], CancellationToken.None));
        Assert.False(Directory.Exists(Path.Combine(_work, "idle-out")));
    }

    [Fact]
    public void A_pipeline_with_nothing_to_start_a_pass_is_refused_at_its_serve_key_as_a_pipeline_file()
    {
        // WritePipeline writes the serve section on line 9; a file without it is refused at its first line.
        string idle = ServeKit.WritePipeline(_work, "idle", "steps_per_shard: 2");
        string bare = Path.Combine(_work, "bare.yaml");
        File.WriteAllText(bare, "source: { shards: in }\noutput: bare-out\n");
        const string Reason = "a served pipeline needs serve.schedule or serve.watch: true (or run with --once)";

        (_, IReadOnlyList<string> refusals) = ServeCommand.Load([idle, bare], once: false);

        Assert.Equal([$"Pipeline file refused: {idle}:9:1: 'serve': {Reason}",
            $"Pipeline file refused: {bare}:1:1: 'serve': {Reason}"], refusals);
        Assert.Empty(ServeCommand.Load([idle, bare], once: true).Refusals);
    }

    [Fact]
    public void A_folder_named_as_a_pipeline_is_told_as_a_folder_as_dfc_run_tells_it()
    {
        string folder = Directory.CreateDirectory(Path.Combine(_work, "pipelines")).FullName;
        string missing = Path.Combine(_work, "missing.yaml");

        (_, IReadOnlyList<string> refusals) = ServeCommand.Load([folder, missing], once: true);

        Assert.Equal([$"Pipeline file refused: {folder}: this is a folder, not a pipeline file",
            $"Pipeline file refused: {missing}: the file does not exist"], refusals);
    }

    [Fact]
    public async Task Publishing_a_shard_again_replaces_its_entry_instead_of_adding_one()
    {
        DateTimeOffset at = new(2027, 1, 4, 10, 0, 0, TimeSpan.Zero);
        await EmbeddingIndex.PublishAsync(_work, new("/d/a.parquet", "aa", "shards/a-aa", 17, 3, ["f1"], at), default);
        await EmbeddingIndex.PublishAsync(_work, new("/d/b.parquet", "bb", "shards/b-bb", 5, 6, ["f2"], at), default);

        // The same shard done again after a crash, then new content at b's path.
        await EmbeddingIndex.PublishAsync(_work, new("/d/a.parquet", "aa", "shards/a-aa", 17, 9, ["f1"], at), default);
        await EmbeddingIndex.PublishAsync(_work, new("/d/b.parquet", "cc", "shards/b-cc", 8, 12, ["f3"], at), default);

        IReadOnlyList<IndexEntry> entries = await EmbeddingIndex.ReadAsync(_work, default);
        Assert.Equal([("/d/a.parquet", "aa", 9), ("/d/b.parquet", "cc", 12)],
            entries.Select(e => (e.Source, e.ContentHash, e.Step)));
        Assert.False(File.Exists(Path.Combine(_work, "index.json.tmp")));
    }
}
