namespace DataflowContrastive.Host.Commands;

/// <summary>The opening every <c>dfc</c> verb shares: <c>--help</c>, then parsing, with usage errors.</summary>
public static class CommandArguments
{
    /// <summary>
    /// Prints <paramref name="usage"/> for <c>--help</c> (exit code 0), or parses <paramref name="args"/> with
    /// <paramref name="parse"/>, whose <see cref="ArgumentException"/> becomes a usage error (exit code 2).
    /// </summary>
    /// <returns>The parsed arguments, or null with the exit code to return at once.</returns>
    public static async Task<(T? Parsed, int ExitCode)> ParseAsync<T>(string verb, string[] args, string usage,
        Func<string[], T> parse, TextWriter output, TextWriter error)
        where T : class
    {
        ArgumentNullException.ThrowIfNull(args);
        ArgumentNullException.ThrowIfNull(parse);
        ArgumentNullException.ThrowIfNull(output);
        ArgumentNullException.ThrowIfNull(error);
        if (args.Contains("--help") || args.Contains("-h"))
        {
            await output.WriteLineAsync(usage);
            return (null, 0);
        }
        try
        {
            return (parse(args), 0);
        }
        catch (ArgumentException e)
        {
            await error.WriteLineAsync($"dfc {verb}: {e.Message}\n\n{usage}");
            return (null, 2);
        }
    }
}
