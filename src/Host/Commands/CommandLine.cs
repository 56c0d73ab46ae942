namespace DataflowContrastive.Host.Commands;

/// <summary>Routes <c>dfc VERB ...</c> to the command that serves it.</summary>
public static class CommandLine
{
    private const string Usage = """
        usage: dfc <command> [arguments]

        commands:
          run PIPELINE.yaml        train as the pipeline file says, then export embeddings
                                   (or, with kind: export, only export with a trained checkpoint)
          serve PIPELINE.yaml...   the long-lived service: train on and export new shards as they come (--help)
          export --help            embed shards with a trained checkpoint, no training
          pack --help              turn local images and captions into Parquet shards
          inspect PATH...          read and decode shards as a run would and print the accounting (--help)
          bench augment            measure decode + augmentation against PyTorch and tjbench (--help)
        """;

    /// <summary>Runs the command named by the first argument and returns the process exit code.</summary>
    public static async Task<int> DispatchAsync(string[] args, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(args);
        if (args.Length == 0 || args[0] is "-h" or "--help" or "help")
        {
            Console.WriteLine(Usage);
            return args.Length == 0 ? 2 : 0;
        }

        string[] rest = args[1..];
        switch (args[0])
        {
            case "run":
                return await RunCommand.RunAsync(rest, cancellationToken);
            case "inspect":
                return await InspectCommand.RunAsync(rest, cancellationToken);
            case "serve":
                return await ServeCommand.RunAsync(rest, cancellationToken);
            case "export":
                return await ExportCommand.RunAsync(rest, cancellationToken);
            case "pack":
                return await PackCommand.RunAsync(rest, cancellationToken);
            case "bench":
                return await BenchCommand.RunAsync(rest, cancellationToken);
            case "ledger-drill":
                // Not in the help: a test drives several of these to check that workers share a ledger.
                return await LedgerDrillCommand.RunAsync(rest, cancellationToken);
            default:
                await Console.Error.WriteLineAsync($"dfc: unknown command '{args[0]}'.\n\n{Usage}");
                return 2;
        }
    }
}
