using System.Globalization;

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
            RefuseBlank(args);
            return (parse(args), 0);
        }
        catch (ArgumentException e)
        {
            await error.WriteLineAsync($"dfc {verb}: {e.Message}\n\n{usage}");
            return (null, 2);
        }
    }

    /// <summary>
    /// Refuses an empty or blank argument (such as <c>--rejects ""</c>, a shell variable that was not set), which no
    /// option or path takes, naming the option it follows.
    /// </summary>
    /// <exception cref="ArgumentException">An argument is empty or blank.</exception>
    public static void RefuseBlank(string[] args)
    {
        ArgumentNullException.ThrowIfNull(args);
        int blank = Array.FindIndex(args, string.IsNullOrWhiteSpace);
        if (blank < 0)
        {
            return;
        }
        throw new ArgumentException(blank > 0 && args[blank - 1].StartsWith('-')
            ? $"{args[blank - 1]} needs a value, and was given an empty one"
            : $"argument {blank + 1} is empty; name a file or folder");
    }

    /// <summary>The value after the flag at <paramref name="i"/>, which is moved onto it.</summary>
    /// <exception cref="ArgumentException">The flag is the last argument.</exception>
    public static string Value(string[] args, ref int i)
    {
        ArgumentNullException.ThrowIfNull(args);
        string flag = args[i];
        return ++i < args.Length ? args[i] : throw new ArgumentException($"{flag} needs a value");
    }

    /// <summary>The whole number of at least <paramref name="min"/> after the flag at <paramref name="i"/>.</summary>
    /// <exception cref="ArgumentException">It is missing, not a whole number, or below the minimum.</exception>
    public static int Number(string[] args, ref int i, int min)
    {
        ArgumentNullException.ThrowIfNull(args);
        string flag = args[i];
        string text = Value(args, ref i);
        return int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out int n) && n >= min
            ? n
            : throw new ArgumentException($"{flag} must be a whole number of at least {min}, was '{text}'");
    }

    /// <summary>
    /// The whole number from <paramref name="min"/> to <paramref name="max"/> after the flag at <paramref name="i"/>,
    /// which is moved onto it.
    /// </summary>
    /// <param name="key">The pipeline key the flag stands for, named in the message; null when there is none.</param>
    /// <exception cref="ArgumentException">It is missing, not a whole number, or out of the range.</exception>
    public static int Number(string[] args, ref int i, int min, int max, string? key = null)
    {
        ArgumentNullException.ThrowIfNull(args);
        string flag = args[i];
        string text = Value(args, ref i);
        string asKey = key is null ? "" : $" (as {key})";
        return int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out int n) && n >= min && n <= max
            ? n
            : throw new ArgumentException($"{flag} must be a whole number from {min} to {max}{asKey}, was '{text}'");
    }
}
