using DataflowContrastive.Host.Pipelines;
using DataflowContrastive.Host.Running;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace DataflowContrastive.Tests.Host;

/// <summary>
/// What a one-shot job makes sure of before any work: its folders can be created, and no other dfc process writes
/// into its output folder; and how it logs an unexpected failure.
/// </summary>
public sealed class OutputFolderTests : IDisposable
{
    private readonly string _work = Directory.CreateTempSubdirectory("dfc-output-").FullName;

    public void Dispose() => Directory.Delete(_work, recursive: true);

    [Fact]
    public void A_second_lock_on_one_output_folder_is_refused_at_once_naming_the_folder()
    {
        using IDisposable first = OutputFolder.Lock(_work);

        var e = Assert.Throws<PipelineRunException>(() => OutputFolder.Lock(_work));

        Assert.StartsWith($"{_work}: another dfc process is using this output folder", e.Message,
            StringComparison.Ordinal);
    }

    [Fact]
    public void The_lock_is_free_again_once_its_holder_lets_it_go()
    {
        OutputFolder.Lock(_work).Dispose();

        using IDisposable again = OutputFolder.Lock(_work);

        Assert.True(File.Exists(Path.Combine(_work, OutputFolder.LockFileName)));
    }

    [Fact]
    public async Task A_dfc_run_into_an_output_folder_another_process_holds_exits_1_before_any_work()
    {
        string output = Path.Combine(_work, "out");
        Directory.CreateDirectory(output);
        string pipeline = WritePipeline("export: { directory: out/embeddings }");

        // This test's process plays the other dfc run: it holds the lock while the child starts.
        using (OutputFolder.Lock(output))
        {
            (int exitCode, string log) = await DfcProcess.RunCapturingAsync(pipeline);

            Assert.True(exitCode == 1, log);
            Assert.Contains($"{output}: another dfc process is using this output folder", log,
                StringComparison.Ordinal);
        }
        Assert.False(Directory.Exists(Path.Combine(output, "rejects")));
        Assert.False(Directory.Exists(Path.Combine(output, "checkpoints")));
    }

    [Fact]
    public async Task An_export_folder_under_a_regular_file_is_refused_before_any_training()
    {
        await File.WriteAllTextAsync(Path.Combine(_work, "notadir"), "a file");
        string pipeline = WritePipeline("export: { directory: notadir/emb }");

        (int exitCode, string log) = await DfcProcess.RunCapturingAsync(pipeline);

        Assert.True(exitCode == 1, log);
        string file = Path.Combine(_work, "notadir");
        Assert.Contains($"export.directory {file}/emb: {file} is a file, not a folder", log, StringComparison.Ordinal);
        Assert.DoesNotContain("step 1/", log, StringComparison.Ordinal);
        Assert.False(Directory.Exists(Path.Combine(_work, "out", "checkpoints")));
    }

    [Fact]
    public void A_checkpoint_folder_under_a_regular_file_is_refused_naming_its_key()
    {
        string file = Path.Combine(_work, "file");
        File.WriteAllText(file, "a file");
        PipelineDefinition d = PipelineFileReader.Read(WritePipeline($"checkpoint: {{ directory: {file}/c }}"));

        var e = Assert.Throws<PipelineRunException>(() => OutputFolder.Prepare(d));

        Assert.Equal($"checkpoint.directory {file}/c: {file} is a file, not a folder", e.Message);
    }

    [Fact]
    public async Task An_unexpected_failure_is_one_error_line_of_messages_and_its_stack_trace_is_at_debug_level()
    {
        PipelineDefinition d = PipelineFileReader.Read(WritePipeline(""));
        var logger = new RecordingLogger();
        var failure = new IOException("Disk on fire", new InvalidOperationException("the inner reason"));
        using var service = new FailingJob(d, failure, logger);

        await service.StartAsync(CancellationToken.None);
        await service.ExecuteTask!;

        var error = Assert.Single(logger.Entries, e => e.Level == LogLevel.Error);
        Assert.Equal("Run failed: Disk on fire <- the inner reason", error.Message);
        Assert.Null(error.Exception);
        Assert.Contains(logger.Entries, e => e.Level == LogLevel.Debug && e.Exception == failure);
    }

    private string WritePipeline(string extra)
    {
        string path = Path.Combine(_work, "p.yaml");
        File.WriteAllText(path, $"""
            source: {"{"} shards: {TestPaths.Repo("samples", "coco-cc")}, shuffle_buffer: 8 {"}"}
            output: out
            images: {"{"} size: 32 {"}"}
            batch: {"{"} size: 8 {"}"}
            model: {"{"} embed_dim: 8, image_widths: [4], text_width: 16, text_layers: 1, text_heads: 2 {"}"}
            train: {"{"} steps: 2, device: cpu, log_every: 1 {"}"}
            {extra}
            """);
        return path;
    }

    private sealed class FailingJob(PipelineDefinition definition, Exception failure, ILogger logger)
        : JobService(new RunOutcome(), new NoLifetime(), logger)
    {
        protected override PipelineDefinition Definition => definition;

        protected override int StoppedExitCode => 130;

        protected override Task<RunSummary> RunJobAsync(CancellationToken stopping) =>
            Task.FromException<RunSummary>(failure);

        protected override void LogEnded(RunSummary summary)
        {
        }
    }

    private sealed class NoLifetime : IHostApplicationLifetime
    {
        public CancellationToken ApplicationStarted => CancellationToken.None;

        public CancellationToken ApplicationStopping => CancellationToken.None;

        public CancellationToken ApplicationStopped => CancellationToken.None;

        public void StopApplication()
        {
        }
    }

    private sealed class RecordingLogger : ILogger
    {
        public List<(LogLevel Level, string Message, Exception? Exception)> Entries { get; } = [];

        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception,
            Func<TState, Exception?, string> formatter)
        {
            lock (Entries)
            {
                Entries.Add((logLevel, formatter(state, exception), exception));
            }
        }
    }
}
