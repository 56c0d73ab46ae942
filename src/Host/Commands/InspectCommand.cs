using DataflowContrastive.Augment;
using DataflowContrastive.Host.Inspecting;
using DataflowContrastive.Host.Pipelines;
using DataflowContrastive.Host.Running;
using DataflowContrastive.Ingest;
using DataflowContrastive.Train;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Console;

namespace DataflowContrastive.Host.Commands;

/// <summary>
/// <c>dfc inspect PATH...</c>: reads and decodes every row of the shards as a run would, without training, and prints
/// the accounting. Exits 0 when the shards were read, whatever was rejected; 1 when no shard is found; 2 on a usage
/// error; <see cref="StoppedExitCode"/> when stopped.
/// </summary>
public static class InspectCommand
{
    private static readonly string Usage = $$"""
        usage: dfc inspect PATH... [options]

        PATH is a Parquet file, a folder (searched recursively) or a glob (*, **, ?), as source.shards takes them.
        Every row is read and decoded as a run would, without training; the accounting is printed.

        options:
          --json                  print the report as JSON instead of text
          --rejects FILE          where the rejects Parquet file is written (default ./rejects.parquet)
          --size N                side of the evaluation image, as images.size: {{PipelineLimits.MinImageSize}} to {{
            PipelineLimits.MaxImageSize}} (default 224)
          --context-length N      tokens per caption, as model.context_length: {{
            PipelineLimits.MinContextLength}} to {{PipelineLimits.MaxContextLength}} (default 32)
          --workers N             rows decoded in parallel, as images.workers: {{PipelineLimits.MinWorkers}} to {{
            PipelineLimits.MaxWorkers}} (default: the cores)
        """;

    /// <summary>Exit code after Ctrl+C or a cancelled token: 128 + SIGINT, as shells report it.</summary>
    public const int StoppedExitCode = 130;

    /// <summary>
    /// Runs the command with <paramref name="args"/> (after the verb), printing to the console. Ctrl+C stops the
    /// reading; the rejects file then holds what was found so far.
    /// </summary>
    public static async Task<int> RunAsync(string[] args, CancellationToken cancellationToken)
    {
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        ConsoleCancelEventHandler onCancel = (_, e) =>
        {
            // The process stays alive so that the rejects file is completed before it exits.
            e.Cancel = true;
            stop.Cancel();
        };
        Console.CancelKeyPress += onCancel;
        try
        {
            return await RunAsync(args, Console.Out, Console.Error, stop.Token);
        }
        finally
        {
            Console.CancelKeyPress -= onCancel;
        }
    }

    /// <summary>Runs the command, printing the report to <paramref name="output"/> and problems to
    /// <paramref name="error"/>; logs go to the standard error stream.</summary>
    public static async Task<int> RunAsync(string[] args, TextWriter output, TextWriter error,
        CancellationToken cancellationToken)
    {
        (InspectArguments? arguments, int exitCode) =
            await CommandArguments.ParseAsync("inspect", args, Usage, InspectArguments.Parse, output, error);
        if (arguments is not { } parsed)
        {
            return exitCode;
        }

        // The rejects file is Parquet too, and may lie in the folder inspected: it is never read as a shard.
        string rejects = Path.GetFullPath(parsed.Rejects);
        IReadOnlyList<string> shards = [.. ShardDiscovery.Find(parsed.Paths, Directory.GetCurrentDirectory())
            .Where(shard => shard != rejects)];
        if (shards.Count == 0)
        {
            await error.WriteLineAsync($"dfc inspect: no Parquet shards found at {string.Join(", ", parsed.Paths)}");
            return 1;
        }

        InspectionReport report;
        try
        {
            report = await InspectAsync(parsed, shards, cancellationToken);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            await error.WriteLineAsync(
                $"dfc inspect: stopped before the end; {Path.GetFullPath(parsed.Rejects)} holds the rejections so far");
            return StoppedExitCode;
        }
        await output.WriteAsync(parsed.Json ? report.ToJson() + Environment.NewLine : report.ToText());
        return 0;
    }

    private static async Task<InspectionReport> InspectAsync(InspectArguments parsed, IReadOnlyList<string> shards,
        CancellationToken cancellationToken)
    {
        // Logs go to standard error, so that standard output holds the report alone (JSON a machine can parse).
        using ILoggerFactory logs = LoggerFactory.Create(builder => builder
            .AddSimpleConsole(o =>
            {
                o.SingleLine = true;
                o.TimestampFormat = "HH:mm:ss ";
                o.ColorBehavior = LoggerColorBehavior.Disabled;
            })
            .AddConsole(o => o.LogToStandardErrorThreshold = LogLevel.Trace));
        ILogger logger = logs.CreateLogger("dfc.inspect");

        var transform = new ImageTransform(new AugmentOptions { ImageSize = parsed.Size, Recipe = "eval" },
            new DecodeOptions());
        var tokenizer = new CaptionTokenizer(parsed.ContextLength);
        await using var recorder = new RunRecorder(Path.GetFullPath(parsed.Rejects), logger);
        var preparer = new SamplePreparer(transform, tokenizer, recorder, seed: 0, parsed.Size);
        var inspector = new DataInspector(new ShardReader(new IngestOptions()), preparer, recorder, parsed.Workers);
        return await inspector.InspectAsync(shards, cancellationToken);
    }

    private sealed record InspectArguments(IReadOnlyList<string> Paths, bool Json, string Rejects, int Size,
        int ContextLength, int Workers)
    {
        public static InspectArguments Parse(string[] args)
        {
            var paths = new List<string>();
            var parsed = new InspectArguments([], false, "rejects.parquet", 224, 32,
                Math.Min(Environment.ProcessorCount, PipelineLimits.MaxWorkers));
            for (int i = 0; i < args.Length; i++)
            {
                parsed = args[i] switch
                {
                    "--json" => parsed with { Json = true },
                    "--rejects" => parsed with { Rejects = CommandArguments.Value(args, ref i) },
                    "--size" => parsed with { Size = CommandArguments.Number(args, ref i,
                        PipelineLimits.MinImageSize, PipelineLimits.MaxImageSize, "images.size") },
                    "--context-length" => parsed with { ContextLength = CommandArguments.Number(args, ref i,
                        PipelineLimits.MinContextLength, PipelineLimits.MaxContextLength, "model.context_length") },
                    "--workers" => parsed with { Workers = CommandArguments.Number(args, ref i,
                        PipelineLimits.MinWorkers, PipelineLimits.MaxWorkers, "images.workers") },
                    string flag when flag.StartsWith('-') => throw new ArgumentException($"unknown option '{flag}'"),
                    string path => Add(paths, path, parsed),
                };
            }
            if (paths.Count == 0)
            {
                throw new ArgumentException("no PATH given");
            }
            CheckRejects(parsed.Rejects);
            return parsed with { Paths = paths };
        }

        // The rejects file is only written at the end: a path that cannot take it is refused before any row is read.
        private static void CheckRejects(string path)
        {
            string full = Path.GetFullPath(path);
            // A path ending in a separator names a folder, whether it exists yet or not.
            if (Directory.Exists(full) || Path.EndsInDirectorySeparator(path))
            {
                throw new ArgumentException($"--rejects names a folder, {full}; name the Parquet file to write " +
                    $"(such as {Path.Combine(full, "rejects.parquet")})");
            }
            try
            {
                Directory.CreateDirectory(Path.GetDirectoryName(full) ?? ".");

                // The file is written as PATH.tmp and then renamed onto PATH; a probe there is removed when closed.
                using var probe = new FileStream(full + ".tmp", FileMode.Create, FileAccess.Write, FileShare.None,
                    bufferSize: 1, FileOptions.DeleteOnClose);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                throw new ArgumentException($"--rejects cannot be written at {full}: {e.Message}", e);
            }
        }

        private static InspectArguments Add(List<string> paths, string path, InspectArguments parsed)
        {
            paths.Add(path);
            return parsed;
        }

    }
}
