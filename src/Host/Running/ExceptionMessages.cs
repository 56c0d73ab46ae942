namespace DataflowContrastive.Host.Running;

/// <summary>
/// How an unexpected failure is put in one log line: its messages, not its stack trace, which goes to Debug level
/// where it is wanted at all.
/// </summary>
public static class ExceptionMessages
{
    /// <summary>The message of <paramref name="exception"/> and of each inner one, outermost first.</summary>
    public static string Of(Exception exception)
    {
        ArgumentNullException.ThrowIfNull(exception);
        var messages = new List<string>();
        for (Exception? e = exception; e is not null; e = e.InnerException)
        {
            messages.Add(e.Message);
        }
        return string.Join(" <- ", messages);
    }
}
