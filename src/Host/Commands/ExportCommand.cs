using System.Text;
using DataflowContrastive.Host.Pipelines;

namespace DataflowContrastive.Host.Commands;

/// <summary>
/// <c>dfc export</c>: a shortcut for an export pipeline file. The options become the same keys a file with
/// <c>kind: export</c> holds, checked by the same reader, so both run exactly the same job.
/// </summary>
public static class ExportCommand
{
    private const string Usage = """
        usage: dfc export --checkpoint DIR --out DIR [options] SHARDS...

        Embeds every sample of the shards (files, folders or globs) with a trained checkpoint, using the evaluation
        transform; nothing is trained. The model comes from the checkpoint's settings.json.

          --checkpoint DIR         a checkpoint's step-N folder, or a checkpoint directory (its newest is taken)
          --out DIR                output folder: embeddings/ (with manifest.json), rejects/, summary.json
          --layout NAME            parquet (default) or clip-retrieval (img_emb/*.npy, text_emb/*.npy, metadata/)
          --embeddings WHICH       image, text or both (default)
          --rows-per-shard N       rows per embedding shard (default 10000)
          --shard-per-input        also start a new embedding shard with each input shard
          --safetensors            also write the weights as embeddings/model.safetensors
          --batch-size N           samples per forward pass (default 32)
          --workers N              images decoded in parallel (default: cores)
          --device NAME            auto (default), cpu or cuda
        """;

    // Each option with a value, and the pipeline key it sets.
    private static readonly Dictionary<string, string> KeysByOption = new(StringComparer.Ordinal)
    {
        ["--checkpoint"] = "export.checkpoint",
        ["--out"] = "output",
        ["--layout"] = "export.layout",
        ["--embeddings"] = "export.embeddings",
        ["--rows-per-shard"] = "export.rows_per_shard",
        ["--batch-size"] = "batch.size",
        ["--workers"] = "images.workers",
        ["--device"] = "train.device",
        ["--shard-per-input"] = "export.shard_per_input",
        ["--safetensors"] = "export.save_safetensors",
    };

    /// <summary>Runs <c>dfc export</c> with <paramref name="args"/> (after the verb); returns the exit code.</summary>
    public static async Task<int> RunAsync(string[] args, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(args);
        if (args.Contains("--help") || args.Contains("-h"))
        {
            Console.WriteLine(Usage);
            return 0;
        }

        PipelineDefinition definition;
        try
        {
            definition = PipelineFileReader.Parse(ToPipelineYaml(args),
                Path.Combine(Directory.GetCurrentDirectory(), "export"), checkShardsExist: true);
        }
        catch (ArgumentException e)
        {
            await Console.Error.WriteLineAsync($"dfc export: {e.Message}\n\n{Usage}");
            return 2;
        }
        catch (PipelineFileException e)
        {
            // The options stand for keys: a problem is told in terms of the option that was (or was not) given.
            foreach (PipelineFileError error in e.Errors)
            {
                string option = KeysByOption.FirstOrDefault(o => o.Value == error.Key).Key ?? error.Key;
                await Console.Error.WriteLineAsync($"dfc export: {option}: {error.Reason}");
            }
            return 2;
        }
        return await RunCommand.HostAsync(definition, cancellationToken);
    }

    /// <summary>
    /// The export pipeline file that <paramref name="args"/> stand for; throws <see cref="ArgumentException"/> on a
    /// mistake in the options themselves.
    /// </summary>
    public static string ToPipelineYaml(string[] args)
    {
        ArgumentNullException.ThrowIfNull(args);
        var keys = new List<(string Key, string Value)> { ("kind", "export") };
        var shards = new List<string>();
        string? output = null;
        for (int i = 0; i < args.Length; i++)
        {
            switch (args[i])
            {
                case "--shard-per-input" or "--safetensors": keys.Add((KeysByOption[args[i]], "true")); continue;
                case string flag when !flag.StartsWith("--", StringComparison.Ordinal): shards.Add(flag); continue;
            }
            string option = args[i];
            string key = KeysByOption.TryGetValue(option, out string? known)
                ? known
                : throw new ArgumentException($"unknown option '{option}'.");
            string value = i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{option} needs a value.");
            output = key == "output" ? value : output;
            keys.Add((key, value));
        }

        if (output is null)
        {
            throw new ArgumentException("--out DIR is required.");
        }
        if (shards.Count == 0)
        {
            throw new ArgumentException("no shards given: name Parquet files, folders or globs after the options.");
        }
        return Yaml(keys, shards);
    }

    // Every value is single-quoted, so paths and names reach the reader as they were typed.
    private static string Yaml(List<(string Key, string Value)> keys, List<string> shards)
    {
        var yaml = new StringBuilder();
        foreach (IGrouping<string, (string Key, string Value)> section in keys.GroupBy(k => Section(k.Key)))
        {
            if (section.Key.Length > 0)
            {
                yaml.Append(section.Key).Append(":\n");
            }
            foreach ((string key, string value) in section)
            {
                string indent = section.Key.Length > 0 ? "  " : "";
                yaml.Append(indent).Append(key[(key.IndexOf('.', StringComparison.Ordinal) + 1)..])
                    .Append(": ").Append(Quote(value)).Append('\n');
            }
        }
        yaml.Append("source:\n  shards:\n");
        foreach (string shard in shards)
        {
            yaml.Append("    - ").Append(Quote(shard)).Append('\n');
        }
        return yaml.ToString();
    }

    private static string Section(string key) =>
        key.Contains('.', StringComparison.Ordinal) ? key[..key.IndexOf('.', StringComparison.Ordinal)] : "";

    private static string Quote(string value) => "'" + value.Replace("'", "''", StringComparison.Ordinal) + "'";
}
