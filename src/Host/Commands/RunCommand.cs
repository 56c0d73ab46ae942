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
    /// <summary>Runs <c>dfc run</c> with <paramref name="args"/> (after the verb); returns the exit code.</summary>
    public static async Task<int> RunAsync(string[] args, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(args);
        var options = new RunOptions { ResumeAnyway = args.Contains("--resume-anyway") };
        string[] files = args.Where(a => a != "--resume-anyway").ToArray();
        if (files.Length != 1 || files[0].StartsWith('-'))
        {
            await Console.Error.WriteLineAsync("usage: dfc run PIPELINE.yaml [--resume-anyway]");
            return 2;
        }

        // The file is checked before the host starts, so a bad file costs no work at all.
        PipelineDefinition definition;
        try
        {
            definition = PipelineFileReader.Read(files[0]);
        }
        catch (PipelineFileException e)
        {
            await Console.Error.WriteLineAsync(e.Message);
            return 2;
        }
        return await HostAsync(definition, cancellationToken, options);
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
        builder.Logging.ClearProviders();
        builder.Logging.AddSimpleConsole(o =>
        {
            o.SingleLine = true;
            o.TimestampFormat = "HH:mm:ss ";
            o.ColorBehavior = LoggerColorBehavior.Disabled;
        });
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
}
