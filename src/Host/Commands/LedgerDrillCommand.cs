using System.Globalization;
using DataflowContrastive.Host.Ledger;

namespace DataflowContrastive.Host.Commands;

/// <summary>
/// <c>dfc ledger-drill</c>, left out of the help: one worker that records every file of a folder in a shard ledger,
/// then leases, holds and completes shards until none is left, printing <c>took PATH</c> for each. Several of these
/// at once show that workers sharing a ledger split the shards without overlap.
/// </summary>
public static class LedgerDrillCommand
{
    private const string Usage = """
        usage: dfc ledger-drill --ledger SPEC --pipeline NAME --worker NAME --shards DIR [options]

          --ledger SPEC     sqlite:PATH, postgres://USER@HOST/DATABASE or Host=...;Database=...
          --pipeline NAME   the pipeline whose shards these are
          --worker NAME     this worker's name, unique among the workers sharing the ledger
          --shards DIR      every file directly in DIR is a shard
          --hold-ms N       how long to hold each shard before completing it (default 0)
          --lease-ms N      how long a lease lasts (default 30000)
          --wait-for FILE   after recording the shards, print "ready" and wait until FILE exists, so that several
                            workers start leasing together
        """;

    /// <summary>Runs the drill with <paramref name="args"/> (after the verb); returns the exit code.</summary>
    public static async Task<int> RunAsync(string[] args, CancellationToken cancellation)
    {
        (DrillArguments? parsed, int exitCode) = await CommandArguments.ParseAsync("ledger-drill", args, Usage,
            DrillArguments.Parse, Console.Out, Console.Error);
        if (parsed is null)
        {
            return exitCode;
        }

        try
        {
            LedgerSpec.Parse(parsed.Ledger, parsed.Ledger);
        }
        catch (ArgumentException e)
        {
            await Console.Error.WriteLineAsync($"dfc ledger-drill: {e.Message}");
            return 2;
        }

        await using IShardLedger ledger = await ShardLedger.OpenAsync(parsed.Ledger, parsed.Ledger,
            TimeProvider.System, cancellation);
        var fingerprinter = new ShardFingerprinter();
        var seen = new List<ShardFingerprint>();
        foreach (string file in Directory.EnumerateFiles(parsed.Shards).Order(StringComparer.Ordinal))
        {
            seen.Add(await fingerprinter.FingerprintAsync(file, cancellation));
        }
        await ledger.RecordSeenAsync(parsed.Pipeline, seen, cancellation);
        if (parsed.WaitFor is not null)
        {
            Console.WriteLine("ready");
            while (!File.Exists(parsed.WaitFor))
            {
                await Task.Delay(TimeSpan.FromMilliseconds(20), cancellation);
            }
        }

        while (await ledger.TryLeaseAsync(parsed.Pipeline, parsed.Worker, parsed.LeaseFor, cancellation)
            is { } lease)
        {
            await Task.Delay(parsed.Hold, cancellation);
            bool kept = await ledger.CompleteAsync(lease, cancellation);
            Console.WriteLine($"{(kept ? "took" : "lost")} {lease.Path}");
        }
        return 0;
    }

    private sealed record DrillArguments(string Ledger, string Pipeline, string Worker, string Shards,
        TimeSpan Hold, TimeSpan LeaseFor, string? WaitFor)
    {
        public static DrillArguments Parse(string[] args)
        {
            var values = new Dictionary<string, string>(StringComparer.Ordinal);
            for (int i = 0; i < args.Length; i += 2)
            {
                if (args[i] is not ("--ledger" or "--pipeline" or "--worker" or "--shards" or "--hold-ms"
                    or "--lease-ms" or "--wait-for"))
                {
                    throw new ArgumentException($"unknown option '{args[i]}'.");
                }
                values[args[i]] = i + 1 < args.Length ? args[i + 1] : throw new ArgumentException(
                    $"{args[i]} needs a value.");
            }

            string Required(string option) => values.TryGetValue(option, out string? value) && value.Length > 0
                ? value
                : throw new ArgumentException($"{option} is required.");

            TimeSpan Millis(string option, int fallback, int least)
            {
                if (!values.TryGetValue(option, out string? value))
                {
                    return TimeSpan.FromMilliseconds(fallback);
                }
                return int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out int ms) && ms >= least
                    ? TimeSpan.FromMilliseconds(ms)
                    : throw new ArgumentException($"{option} needs a whole number of at least {least}.");
            }

            return new DrillArguments(Required("--ledger"), Required("--pipeline"), Required("--worker"),
                Required("--shards"), Millis("--hold-ms", 0, least: 0), Millis("--lease-ms", 30_000, least: 1),
                values.GetValueOrDefault("--wait-for"));
        }
    }
}
