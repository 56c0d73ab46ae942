using Parquet;
using Polly;
using Polly.Retry;

namespace DataflowContrastive.Ingest;

/// <summary>Which failures are worth retrying, the retry pipeline itself, and the words for a failure.</summary>
internal static class TransientIo
{
    public static ResiliencePipeline CreatePipeline(IngestOptions options, TimeProvider time)
    {
        if (options.RetryCount == 0)
        {
            return ResiliencePipeline.Empty;
        }
        return new ResiliencePipelineBuilder { TimeProvider = time }
            .AddRetry(new RetryStrategyOptions
            {
                ShouldHandle = args => ValueTask.FromResult(args.Outcome.Exception is { } e && IsTransient(e)),
                MaxRetryAttempts = options.RetryCount,
                Delay = options.RetryBaseDelay,
                BackoffType = DelayBackoffType.Exponential,
                UseJitter = true,
            })
            .Build();
    }

    /// <summary>
    /// An I/O failure of the operating system that may pass: a locked file, a flaky network mount. A missing
    /// file, a short read and anything the Parquet library raises about the content are data, not luck.
    /// </summary>
    public static bool IsTransient(Exception exception) => exception switch
    {
        UnauthorizedAccessException => true,
        FileNotFoundException or DirectoryNotFoundException or EndOfStreamException or PathTooLongException => false,
        IOException io => io.TargetSite?.Module.Assembly != typeof(ParquetReader).Assembly,
        _ => false,
    };

    /// <summary>The <see cref="ShardException.Code"/> of a failure that <see cref="Describe"/> words.</summary>
    public static string CodeOf(Exception exception) =>
        exception is FileNotFoundException or DirectoryNotFoundException || IsTransient(exception)
            ? ShardException.Unreadable
            : ShardException.Corrupt;

    /// <summary>
    /// Words a failure to read a shard for people. With <paramref name="column"/>, the column being read when the
    /// data turned out corrupt is named; the reader's own message (often a bare .NET one) follows as the detail.
    /// </summary>
    public static string Describe(Exception exception, int retryCount, string? column = null) => exception switch
    {
        FileNotFoundException or DirectoryNotFoundException => "the file does not exist",
        _ when IsTransient(exception) =>
            $"I/O failure that persisted over {retryCount + 1} attempts: {exception.Message}",
        NotSupportedException => $"unsupported or corrupt Parquet structure: {exception.Message}",
        _ when column is not null =>
            $"corrupt Parquet data in column {column}: its pages do not decode ({exception.GetType().Name}: " +
            $"{exception.Message})",
        _ => $"corrupt Parquet data ({exception.GetType().Name}): {exception.Message}",
    };
}
