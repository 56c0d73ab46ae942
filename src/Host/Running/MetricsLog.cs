using System.Text;
using System.Text.Json;

namespace DataflowContrastive.Host.Running;

/// <summary>
/// The evaluations of a run, in its output folder: <c>metrics.jsonl</c> holds one <see cref="EvaluationRecord"/> per
/// line in step order, and <c>metrics.json</c> the latest one (replaced in one rename, so a reader never sees half of
/// it). A resumed run keeps the records up to the step it resumes from and drops later ones, which the process that
/// stopped wrote after its last checkpoint: the resumed run evaluates those steps again.
/// </summary>
public sealed class MetricsLog
{
    /// <summary>The file of every evaluation, one JSON object per line.</summary>
    public const string LinesFile = "metrics.jsonl";

    /// <summary>The file of the latest evaluation.</summary>
    public const string LatestFile = "metrics.json";

    private readonly string _directory;
    private readonly List<EvaluationRecord> _records;

    private MetricsLog(string directory, List<EvaluationRecord> records)
    {
        _directory = directory;
        _records = records;
    }

    /// <summary>The records so far, in step order.</summary>
    public IReadOnlyList<EvaluationRecord> Records => _records;

    /// <summary>
    /// Opens the log in <paramref name="directory"/> for a run that stands at <paramref name="step"/>: records of
    /// later steps are dropped from the file, as is a last line cut short by a crash.
    /// </summary>
    public static async Task<MetricsLog> OpenAsync(string directory, int step, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(directory);
        Directory.CreateDirectory(directory);
        string path = Path.Combine(directory, LinesFile);
        var records = new List<EvaluationRecord>();
        if (File.Exists(path))
        {
            foreach (string line in await File.ReadAllLinesAsync(path, cancellationToken))
            {
                if (TryParse(line) is { } record && record.Step <= step)
                {
                    records.Add(record);
                }
            }
        }
        var log = new MetricsLog(directory, records);
        await log.RewriteAsync(cancellationToken);
        return log;
    }

    /// <summary>The record of <paramref name="step"/>, or null when that step was not evaluated.</summary>
    public EvaluationRecord? At(int step) => _records.LastOrDefault(r => r.Step == step);

    /// <summary>Adds a record at the end of <c>metrics.jsonl</c> and makes it <c>metrics.json</c>.</summary>
    public async Task AppendAsync(EvaluationRecord record, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(record);
        _records.Add(record);
        await File.AppendAllTextAsync(Path.Combine(_directory, LinesFile), record.ToJson() + "\n", Encoding.UTF8,
            cancellationToken);
        await WriteLatestAsync(record, cancellationToken);
    }

    private async Task RewriteAsync(CancellationToken cancellationToken)
    {
        string path = Path.Combine(_directory, LinesFile);
        string temporary = path + ".tmp";
        await File.WriteAllLinesAsync(temporary, _records.Select(r => r.ToJson()), cancellationToken);
        File.Move(temporary, path, overwrite: true);
        if (_records.Count > 0)
        {
            await WriteLatestAsync(_records[^1], cancellationToken);
        }
        else
        {
            File.Delete(Path.Combine(_directory, LatestFile));
        }
    }

    private async Task WriteLatestAsync(EvaluationRecord record, CancellationToken cancellationToken)
    {
        string path = Path.Combine(_directory, LatestFile);
        string temporary = path + ".tmp";
        await File.WriteAllTextAsync(temporary, record.ToJson() + "\n", cancellationToken);
        File.Move(temporary, path, overwrite: true);
    }

    private static EvaluationRecord? TryParse(string line)
    {
        try
        {
            return line.Length == 0 ? null : EvaluationRecord.FromJson(line);
        }
        catch (JsonException)
        {
            // A line cut short when a process was killed while appending it.
            return null;
        }
    }
}
