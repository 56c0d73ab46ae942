using DataflowContrastive.Host.Export;
using DataflowContrastive.Host.Pipelines;
using DataflowContrastive.Host.Running;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Console;

namespace DataflowContrastive.Host.Commands;

/// <summary><c>dfc run PIPELINE.yaml</c>: the main job of one pipeline file, in the hosted service.</summary>
public static class RunCommand
{
    private const string Usage = "usage: dfc run PIPELINE.yaml [--resume-anyway]";

    /// <summary>Runs <c>dfc run</c> with <paramref name="args"/> (after the verb); returns the exit code.</summary>
    public static async Task<int> RunAsync(string[] args, CancellationToken cancellationToken)
    {
        (Arguments? parsed, int exitCode) = await CommandArguments.ParseAsync(
            "run", args, Usage, Parse, Console.Out, Console.Error);
        if (parsed is null)
        {
            return exitCode;
        }

        // The file is checked before the host starts, so a bad file costs no work at all.
        PipelineDefinition definition;
        try
        {
            definition = PipelineFileReader.Read(parsed.File);
        }
        catch (PipelineFileException e)
        {
            await Console.Error.WriteLineAsync(e.Message);
            return 2;
        }
        return await HostAsync(definition, cancellationToken, parsed.Options);
    }

    /// <summary>Parses the arguments after the verb; throws <see cref="ArgumentException"/> on a mistake.</summary>
    public static Arguments Parse(string[] args)
    {
        ArgumentNullException.ThrowIfNull(args);
        var files = new List<string>();
        bool resumeAnyway = false;
        foreach (string arg in args)
        {
            switch (arg)
            {
                case "--resume-anyway": resumeAnyway = true; break;
                case string option when option.StartsWith('-'):
                    throw new ArgumentException($"unknown option '{option}'.");
                default: files.Add(arg); break;
            }
        }
        return files.Count == 1
            ? new Arguments(files[0], new RunOptions { ResumeAnyway = resumeAnyway })
            : throw new ArgumentException(files.Count == 0
                ? "name the pipeline file."
                : $"name one pipeline file, not {files.Count} ({string.Join(", ", files)}).");
    }

    /// <summary>Runs a checked definition's job (training or export) in the host; returns the exit code.</summary>
    public static async Task<int> HostAsync(PipelineDefinition definition, CancellationToken cancellationToken,
        RunOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(definition);

        // Training and decoding block their threads in native code; more pool threads keep timers, logging and the
        // stop signal responsive on machines with few cores.
        ThreadPool.GetMinThreads(out int workers, out int io);
        ThreadPool.SetMinThreads(Math.Max(workers, (2 * Environment.ProcessorCount) + 4), io);

        HostApplicationBuilder builder = Microsoft.Extensions.Hosting.Host.CreateApplicationBuilder();
        AddLogging(builder.Logging);
        if (definition.Kind == PipelineKind.Export)
        {
            builder.Services.AddExportRun(definition);
        }
        else
        {
            builder.Services.AddPipelineRun(definition, options);
        }

        using IHost host = builder.Build();
        RunOutcome outcome = host.Services.GetRequiredService<RunOutcome>();
        await host.RunAsync(cancellationToken);
        if (outcome.Summary is { } summary)
        {
            Console.WriteLine(summary.ToJson());
        }
        return outcome.ExitCode;
    }

    /// <summary>
    /// The console logging of a one-shot job: one line a message, and without the generic host's lifetime messages
    /// ("Application started. Press Ctrl+C to shut down", the environment, the content root), which only a service
    /// manager wants; <c>dfc serve</c> keeps them.
    /// </summary>
    public static void AddLogging(ILoggingBuilder logging)
    {
        ArgumentNullException.ThrowIfNull(logging);
        logging.ClearProviders();
        logging.AddSimpleConsole(o =>
        {
            o.SingleLine = true;
            o.TimestampFormat = "HH:mm:ss ";
            o.ColorBehavior = LoggerColorBehavior.Disabled;
        });
        logging.AddFilter("Microsoft.Hosting.Lifetime", LogLevel.Warning);
    }

    /// <summary>The parsed command line of <c>dfc run</c>.</summary>
    /// <param name="File">The pipeline file.</param>
    /// <param name="Options">The run's options (<c>--resume-anyway</c>).</param>
    public sealed record Arguments(string File, RunOptions Options);
}
