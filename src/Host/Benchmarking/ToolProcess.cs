using System.ComponentModel;
using System.Diagnostics;

namespace DataflowContrastive.Host.Benchmarking;

/// <summary>What an external program did: its exit code and everything it printed.</summary>
/// <param name="ExitCode">The process's exit code.</param>
/// <param name="Output">Its standard output.</param>
/// <param name="Error">Its standard error.</param>
public sealed record ToolRun(int ExitCode, string Output, string Error)
{
    /// <summary>The last non-empty line of standard error, or a note that there was none.</summary>
    public string LastErrorLine =>
        Error.Split('\n', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries).LastOrDefault()
        ?? "(nothing on standard error)";
}

/// <summary>Runs the external programs the benchmark compares against.</summary>
public static class ToolProcess
{
    /// <summary>
    /// Runs <paramref name="program"/> with <paramref name="arguments"/> in <paramref name="workingDirectory"/> to
    /// its end and returns what it printed; null when the program does not exist. Cancellation kills it.
    /// </summary>
    public static async Task<ToolRun?> RunAsync(string program, IEnumerable<string> arguments,
        string workingDirectory, CancellationToken cancellationToken)
    {
        var start = new ProcessStartInfo(program)
        {
            WorkingDirectory = workingDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (string argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        using var process = new Process { StartInfo = start };
        try
        {
            process.Start();
        }
        catch (Win32Exception)
        {
            // Not found or not executable: the caller says what to install.
            return null;
        }

        // Both streams are read at once, so that a program filling one pipe never blocks on it.
        Task<string> output = process.StandardOutput.ReadToEndAsync(cancellationToken);
        Task<string> error = process.StandardError.ReadToEndAsync(cancellationToken);
        try
        {
            await process.WaitForExitAsync(cancellationToken);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw;
        }
        return new ToolRun(process.ExitCode, await output, await error);
    }
}
