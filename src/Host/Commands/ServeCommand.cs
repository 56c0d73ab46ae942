using System.Globalization;
using DataflowContrastive.Host.Pipelines;
using DataflowContrastive.Host.Running;
using DataflowContrastive.Host.Serving;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Hosting.Systemd;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Console;
using OpenTelemetry.Metrics;

namespace DataflowContrastive.Host.Commands;

/// <summary><c>dfc serve PIPELINE.yaml...</c>: the long-lived service that works on new shards as they come.</summary>
public static class ServeCommand
{
    private const string Usage = """
        usage: dfc serve PIPELINE.yaml [MORE.yaml ...] [options]

        Serves each pipeline: on its schedule (serve.schedule) or when shards appear in its source folders
        (serve.watch), new shards are recorded in the pipeline's ledger, trained on (serve.steps_per_shard steps each,
        from the newest checkpoint) and/or exported, and their embeddings listed in the export folder's index.json.

          --once                   do what is pending now (waiting out other workers' leases), then exit
          --grace SECONDS          time a stop request (SIGTERM) leaves for in-flight work to stop (default 60)
          --metrics-port N         serve Prometheus metrics at http://localhost:N/metrics (default: off)
          --health-port N          answer GET http://127.0.0.1:N/healthz (default: off)
        """;

    /// <summary>The parsed command line.</summary>
    public sealed record Arguments(IReadOnlyList<string> Files, bool Once, TimeSpan Grace, int? MetricsPort,
        int? HealthPort);

    /// <summary>Runs <c>dfc serve</c> with <paramref name="args"/> (after the verb); returns the exit code.</summary>
    public static async Task<int> RunAsync(string[] args, CancellationToken cancellationToken)
    {
        (Arguments? parsed, int exitCode) = await CommandArguments.ParseAsync("serve", args, Usage, Parse,
            Console.Out, Console.Error);
        if (parsed is null)
        {
            return exitCode;
        }

        // Every file is checked before the host starts, so a bad one costs no work at all.
        (IReadOnlyList<ServedPipeline> pipelines, IReadOnlyList<string> refusals) = Load(parsed.Files, parsed.Once);
        if (refusals.Count > 0)
        {
            await Console.Error.WriteLineAsync(string.Join('\n', refusals));
            return 2;
        }
        return await HostAsync(new ServeOptions { Pipelines = pipelines, Once = parsed.Once }, parsed,
            cancellationToken);
    }

    /// <summary>
    /// Reads and checks the pipeline <paramref name="files"/> for serving (with <c>--once</c> when
    /// <paramref name="once"/>); returns the pipelines, and a message per file refused, as other pipeline-file
    /// refusals read.
    /// </summary>
    public static (IReadOnlyList<ServedPipeline> Pipelines, IReadOnlyList<string> Refusals) Load(
        IReadOnlyList<string> files, bool once)
    {
        ArgumentNullException.ThrowIfNull(files);
        var pipelines = new List<ServedPipeline>();
        var refusals = new List<string>();
        foreach (string file in files)
        {
            try
            {
                // As dfc run does, a folder is told apart from a file that is missing.
                ServedPipeline pipeline = ServedPipeline.Load(file);
                List<PipelineFileError> problems = [.. Check(pipeline, pipelines, once)];
                if (problems.Count > 0)
                {
                    refusals.Add(new PipelineFileException(problems).Message);
                }
                pipelines.Add(pipeline);
            }
            catch (PipelineFileException e)
            {
                refusals.Add(e.Message);
            }
        }
        return (pipelines, refusals);
    }

    /// <summary>Parses the arguments; throws <see cref="ArgumentException"/> on a mistake.</summary>
    public static Arguments Parse(string[] args)
    {
        ArgumentNullException.ThrowIfNull(args);
        var files = new List<string>();
        bool once = false;
        TimeSpan grace = TimeSpan.FromSeconds(60);
        int? metrics = null, health = null;
        for (int i = 0; i < args.Length; i++)
        {
            switch (args[i])
            {
                case "--once": once = true; break;
                case "--grace": grace = TimeSpan.FromSeconds(Number(args, ++i, "--grace", 0, 86_400)); break;
                case "--metrics-port": metrics = Number(args, ++i, "--metrics-port", 1, 65_535); break;
                case "--health-port": health = Number(args, ++i, "--health-port", 1, 65_535); break;
                case string option when option.StartsWith('-'):
                    throw new ArgumentException($"unknown option '{option}'.");
                case string file: files.Add(file); break;
            }
        }
        return files.Count > 0
            ? new Arguments(files, once, grace, metrics, health)
            : throw new ArgumentException("name at least one pipeline file.");
    }

    private static int Number(string[] args, int index, string option, int min, int max) =>
        index < args.Length && int.TryParse(args[index], NumberStyles.None, CultureInfo.InvariantCulture,
            out int value) && value >= min && value <= max
            ? value
            : throw new ArgumentException($"{option} needs a whole number from {min} to {max}.");

    // Rules that concern serving, not the file alone: something must start a pass, and names key the ledger.
    private static IEnumerable<PipelineFileError> Check(ServedPipeline pipeline, List<ServedPipeline> earlier,
        bool once)
    {
        PipelineDefinition d = pipeline.Definition;
        if (!once && d.Serve.Schedule is null && !d.Serve.Watch)
        {
            yield return ErrorAt(d, "serve",
                "a served pipeline needs serve.schedule or serve.watch: true (or run with --once)");
        }
        if (earlier.FirstOrDefault(p => p.Name == pipeline.Name) is { } same)
        {
            yield return ErrorAt(d, "name", $"'{pipeline.Name}' is also the name of {same.Definition.SourceFile}; " +
                "pipelines served together need different names");
        }
    }

    private static PipelineFileError ErrorAt(PipelineDefinition definition, string key, string reason) =>
        PipelineFileReader.ErrorAtKey(File.ReadAllText(definition.SourceFile), definition.SourceFile, key, reason);

    private static async Task<int> HostAsync(ServeOptions options, Arguments arguments,
        CancellationToken cancellationToken)
    {
        // Training blocks its threads in native code; more pool threads keep timers, leases and signals responsive.
        ThreadPool.GetMinThreads(out int workers, out int io);
        ThreadPool.SetMinThreads(Math.Max(workers, (2 * Environment.ProcessorCount) + 4), io);

        HostApplicationBuilder builder = Microsoft.Extensions.Hosting.Host.CreateApplicationBuilder();
        AddLogging(builder);
        builder.Services.AddServe(options, arguments.Grace);
        if (arguments.MetricsPort is { } metricsPort)
        {
            builder.Services.AddOpenTelemetry().WithMetrics(metrics => metrics
                .AddMeter(RunRecorder.MeterName, ServeMetrics.MeterName)
                .AddPrometheusHttpListener(o => o.Port = metricsPort));
        }
        if (arguments.HealthPort is { } healthPort)
        {
            builder.Services.AddHostedService(s => new HealthEndpoint(healthPort,
                s.GetRequiredService<Microsoft.Extensions.Diagnostics.HealthChecks.HealthCheckService>()));
        }

        using IHost host = builder.Build();
        RunOutcome outcome = host.Services.GetRequiredService<RunOutcome>();
        await host.RunAsync(cancellationToken);
        return outcome.ExitCode;
    }

    // Under systemd, lines go to the journal with their level; elsewhere, one plain line each.
    private static void AddLogging(HostApplicationBuilder builder)
    {
        builder.Logging.ClearProviders();
        if (SystemdHelpers.IsSystemdService())
        {
            builder.Services.AddSystemd();
            builder.Logging.AddConsole();
            return;
        }
        builder.Logging.AddSimpleConsole(o =>
        {
            o.SingleLine = true;
            o.TimestampFormat = "HH:mm:ss ";
            o.ColorBehavior = LoggerColorBehavior.Disabled;
        });
    }
}
