using System.Diagnostics;

namespace DataflowContrastive.Tests.Host;

/// <summary>Runs <c>dfc run</c> as a child process, as a user would, so that its output and exit can be observed.
/// </summary>
internal static class DfcProcess
{
    private const string CrashVariable = "DATAFLOWCONTRASTIVE_CRASH_IN_CHECKPOINT";

    /// <summary>Runs the pipeline to its end; returns the exit code and everything written to standard output.
    /// </summary>
    public static async Task<(int ExitCode, string Output)> RunCapturingAsync(string pipeline)
    {
        using Process dfc = Start(pipeline, crashInCheckpointAt: null, redirect: true, _ => { });
        string output = await dfc.StandardOutput.ReadToEndAsync();
        await dfc.WaitForExitAsync().WaitAsync(TimeSpan.FromMinutes(3));
        return (dfc.ExitCode, output);
    }

    /// <summary>
    /// Starts the run. With <paramref name="redirect"/> false, each output line goes to <paramref name="onLine"/> as it
    /// comes; with <paramref name="crashInCheckpointAt"/>, the process ends abruptly while writing that checkpoint.
    /// </summary>
    public static Process Start(string pipeline, int? crashInCheckpointAt, bool redirect, Action<string> onLine)
    {
        var start = new ProcessStartInfo("dotnet")
        {
            UseShellExecute = false,
            RedirectStandardOutput = true,
            RedirectStandardError = !redirect,
        };
        start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "dfc.dll"));
        start.ArgumentList.Add("run");
        start.ArgumentList.Add(pipeline);
        start.Environment[CrashVariable] =
            crashInCheckpointAt?.ToString(System.Globalization.CultureInfo.InvariantCulture);
        Process dfc = Process.Start(start) ?? throw new InvalidOperationException("dotnet did not start");
        if (!redirect)
        {
            // Read the output as it comes, which also keeps the child from blocking on a full pipe.
            dfc.OutputDataReceived += (_, e) => onLine(e.Data ?? "");
            dfc.ErrorDataReceived += (_, _) => { };
            dfc.BeginOutputReadLine();
            dfc.BeginErrorReadLine();
        }
        return dfc;
    }
}
