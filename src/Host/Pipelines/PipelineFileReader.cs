using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace DataflowContrastive.Host.Pipelines;

/// <summary>
/// Reads a pipeline file (YAML) into a <see cref="PipelineDefinition"/>. Every problem is collected, with its line
/// and key, and reported at once in a <see cref="PipelineFileException"/>: a file is refused before any work starts.
/// </summary>
public static class PipelineFileReader
{
    private static readonly Dictionary<string, PipelineKey> KeysByPath =
        PipelineKeys.All.ToDictionary(k => k.Path, StringComparer.Ordinal);

    private static readonly HashSet<string> Sections = PipelineKeys.All
        .SelectMany(k => Prefixes(k.Path))
        .ToHashSet(StringComparer.Ordinal);

    // Keys an export takes from the checkpoint's settings.json: the model and the pixels it was trained on.
    private static readonly HashSet<string> ExportTakesFromCheckpoint = new(
        PipelineKeys.All.Select(k => k.Path).Where(p => p.StartsWith("model.", StringComparison.Ordinal))
            .Concat(["images.size", "images.mean", "images.std"]),
        StringComparer.Ordinal);

    /// <summary>Reads and checks the pipeline file at <paramref name="path"/>.</summary>
    public static PipelineDefinition Read(string path)
    {
        string fullPath = Locate(path);
        return Parse(File.ReadAllText(fullPath), fullPath, checkShardsExist: true);
    }

    /// <summary>The full path of the pipeline file at <paramref name="path"/>, which must be a file.</summary>
    /// <exception cref="PipelineFileException">It is a folder, or nothing is there.</exception>
    public static string Locate(string path)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        string fullPath = Path.GetFullPath(path);
        if (Directory.Exists(fullPath))
        {
            throw new PipelineFileException(
                [new PipelineFileError(fullPath, 0, 0, "", "this is a folder, not a pipeline file")]);
        }
        if (!File.Exists(fullPath))
        {
            throw new PipelineFileException([new PipelineFileError(fullPath, 0, 0, "", "the file does not exist")]);
        }
        return fullPath;
    }

    /// <summary>
    /// An error about <paramref name="key"/> (dotted, such as <c>serve</c>) for a rule checked outside this reader,
    /// at the line where the key is written in <paramref name="yaml"/>, or at line 1 when it is not written.
    /// </summary>
    public static PipelineFileError ErrorAtKey(string yaml, string sourceFile, string key, string reason)
    {
        ArgumentNullException.ThrowIfNull(yaml);
        ArgumentException.ThrowIfNullOrWhiteSpace(key);
        YamlMappingNode? mapping = LoadRoot(yaml, sourceFile, []);
        string[] parts = key.Split('.');
        YamlNode? written = null;
        for (int i = 0; i < parts.Length && mapping is not null; i++)
        {
            written = mapping.Children.Keys.FirstOrDefault(k => k is YamlScalarNode { Value: var v } && v == parts[i]);
            mapping = written is null ? null : mapping.Children[written] as YamlMappingNode;
            written = i == parts.Length - 1 ? written : null;
        }
        return written is null
            ? new PipelineFileError(sourceFile, 1, 1, key, reason)
            : new PipelineFileError(sourceFile, (int)written.Start.Line, (int)written.Start.Column, key, reason);
    }

    /// <summary>Parses pipeline-file text; <paramref name="sourceFile"/> names it in errors, anchors paths.</summary>
    /// <param name="checkShardsExist">Also refuse shard paths and globs that match no Parquet file.</param>
    public static PipelineDefinition Parse(string yaml, string sourceFile, bool checkShardsExist = false)
    {
        ArgumentNullException.ThrowIfNull(yaml);
        ArgumentException.ThrowIfNullOrWhiteSpace(sourceFile);

        var errors = new List<PipelineFileError>();
        var definition = new PipelineDefinition
        {
            SourceFile = sourceFile,
            Name = Path.GetFileNameWithoutExtension(sourceFile),
        };
        string baseDirectory = Path.GetDirectoryName(sourceFile) ?? Directory.GetCurrentDirectory();

        YamlMappingNode? root = LoadRoot(yaml, sourceFile, errors);
        var seen = new HashSet<string>(StringComparer.Ordinal);
        if (root is not null)
        {
            Bind(root, "", definition, baseDirectory, seen, errors);
        }
        ApplyDerivedDefaults(definition);
        CheckTogether(definition, root, seen, errors);
        ModeRules.Apply(definition, root, seen, errors);
        if (checkShardsExist && errors.Count == 0)
        {
            CheckShardsExist(definition, root, errors);
        }

        return errors.Count == 0 ? definition : throw new PipelineFileException(errors);
    }

    private static YamlMappingNode? LoadRoot(string yaml, string file, List<PipelineFileError> errors)
    {
        var stream = new YamlStream();
        try
        {
            stream.Load(new StringReader(yaml));
        }
        catch (YamlException e)
        {
            (int line, int column) = IndentTabAfter(yaml, e) ?? ((int)e.Start.Line, (int)e.Start.Column);
            errors.Add(new PipelineFileError(file, line, column, "",
                $"not valid YAML: {e.InnerException?.Message ?? e.Message}"));
            return null;
        }
        catch (InvalidOperationException)
        {
            // YamlDotNet's scanner can fail this way on some malformed text without saying where or why.
            Mark where = LastGoodMark(yaml);
            errors.Add(new PipelineFileError(file, (int)where.Line, (int)where.Column, "",
                "not valid YAML after this point (an unclosed bracket or quote, or a bad indent?)"));
            return null;
        }

        if (stream.Documents.Count == 1 && stream.Documents[0].RootNode is YamlMappingNode root)
        {
            return root;
        }
        errors.Add(new PipelineFileError(file, 1, 1, "", "expected one YAML document holding a mapping of keys"));
        return null;
    }

    // YamlDotNet reports a tab used as indentation at the start of the enclosing mapping (often line 1), so the
    // tab itself is looked for: the first one in the leading white space of a line at or after that mark.
    private static (int Line, int Column)? IndentTabAfter(string yaml, YamlException e)
    {
        if (!e.Message.Contains("tab", StringComparison.OrdinalIgnoreCase))
        {
            return null;
        }
        string[] lines = yaml.Split('\n');
        for (int i = Math.Max(0, (int)e.Start.Line - 1); i < lines.Length; i++)
        {
            int indent = lines[i].Length - lines[i].TrimStart(' ', '\t').Length;
            int tab = lines[i].IndexOf('\t', 0, indent);
            if (tab >= 0)
            {
                return (i + 1, tab + 1);
            }
        }
        return null;
    }

    private static Mark LastGoodMark(string yaml)
    {
        var scanner = new Scanner(new StringReader(yaml));
        Mark last = Mark.Empty;
        try
        {
            while (scanner.MoveNext())
            {
                last = scanner.Current?.End ?? last;
            }
        }
        catch (Exception e) when (e is InvalidOperationException or YamlException)
        {
            // The scanner stopped where the text stops being YAML: the mark before is the best place to point at.
        }
        return last;
    }

    private static void Bind(YamlMappingNode mapping, string prefix, PipelineDefinition definition,
        string baseDirectory, HashSet<string> seen, List<PipelineFileError> errors)
    {
        foreach ((YamlNode keyNode, YamlNode value) in mapping.Children)
        {
            string name = (keyNode as YamlScalarNode)?.Value ?? "";
            string path = prefix + name;
            if (!seen.Add(path))
            {
                errors.Add(At(definition, keyNode, path, "the key is given twice"));
            }
            else if (KeysByPath.TryGetValue(path, out PipelineKey? key))
            {
                BindValue(key, value, definition, baseDirectory, errors);
            }
            else if (Sections.Contains(path) && value is YamlMappingNode section)
            {
                Bind(section, path + ".", definition, baseDirectory, seen, errors);
            }
            else if (Sections.Contains(path))
            {
                errors.Add(At(definition, value, path, "expected a mapping of keys under this section"));
            }
            else
            {
                errors.Add(At(definition, keyNode, path, UnknownKeyReason(path)));
            }
        }
    }

    private static void BindValue(PipelineKey key, YamlNode value, PipelineDefinition definition,
        string baseDirectory, List<PipelineFileError> errors)
    {
        if (value is YamlScalarNode { Value: null or "" or "~" or "null", Style: ScalarStyle.Plain })
        {
            errors.Add(At(definition, value, key.Path, "has no value; leave the key out to take its default"));
            return;
        }
        try
        {
            key.Bind(value, definition, baseDirectory);
        }
        catch (FormatException e)
        {
            errors.Add(At(definition, value, key.Path, e.Message));
        }
    }

    private static void ApplyDerivedDefaults(PipelineDefinition definition)
    {
        if (definition.OutputDirectory.Length == 0)
        {
            definition.OutputDirectory = Path.GetFullPath(Path.Combine("runs", definition.Name));
        }
        if (definition.Checkpoint.Directory.Length == 0)
        {
            definition.Checkpoint.Directory = Path.Combine(definition.OutputDirectory, "checkpoints");
        }
        if (definition.Export.Directory.Length == 0)
        {
            definition.Export.Directory = Path.Combine(definition.OutputDirectory, "embeddings");
        }
    }

    // Rules that tie two keys together, reported at the second key's line.
    private static void CheckShardsExist(PipelineDefinition definition, YamlMappingNode? root,
        List<PipelineFileError> errors)
    {
        if (definition.FindShards().Count == 0)
        {
            errors.Add(At(definition, Find(root, "source.shards"), "source.shards",
                $"no Parquet file found at {string.Join(", ", definition.Source.Shards)}"));
        }
    }

    private static void CheckTogether(PipelineDefinition definition, YamlMappingNode? root, HashSet<string> seen,
        List<PipelineFileError> errors)
    {
        if (root is not null && !seen.Contains("source.shards"))
        {
            errors.Add(new PipelineFileError(definition.SourceFile, 0, 0, "source.shards",
                "is required: the Parquet shards to read (files, folders or globs)"));
        }
        CheckKind(definition, root, seen, errors);
        if (definition.Model.TextWidth % definition.Model.TextHeads != 0)
        {
            errors.Add(At(definition, Find(root, "model.text_heads") ?? Find(root, "model.text_width"),
                "model.text_heads", $"must divide model.text_width ({definition.Model.TextWidth})"));
        }
    }

    // An export takes its model from the checkpoint's settings, so the file may not name one of its own.
    private static void CheckKind(PipelineDefinition definition, YamlMappingNode? root, HashSet<string> seen,
        List<PipelineFileError> errors)
    {
        if (root is null)
        {
            return;
        }
        if (definition.Kind == PipelineKind.Export)
        {
            if (!seen.Contains("export.checkpoint"))
            {
                errors.Add(new PipelineFileError(definition.SourceFile, 0, 0, "export.checkpoint",
                    "is required with kind: export (a step-N folder or a checkpoint directory)"));
            }
            foreach (string key in seen.Where(k => ExportTakesFromCheckpoint.Contains(k)))
            {
                errors.Add(At(definition, Find(root, key), key,
                    "comes from the checkpoint's settings.json with kind: export; leave it out"));
            }
        }
        else if (seen.Contains("export.checkpoint"))
        {
            errors.Add(At(definition, Find(root, "export.checkpoint"), "export.checkpoint",
                "is only read with kind: export; a training run exports the model it trained"));
        }
    }

    internal static YamlNode? Find(YamlMappingNode? root, string path)
    {
        YamlNode? node = root;
        foreach (string part in path.Split('.'))
        {
            if (node is not YamlMappingNode mapping
                || !mapping.Children.TryGetValue(new YamlScalarNode(part), out node))
            {
                return null;
            }
        }
        return node;
    }

    internal static PipelineFileError At(PipelineDefinition definition, YamlNode? node, string key, string reason) =>
        node is null
            ? new PipelineFileError(definition.SourceFile, 0, 0, key, reason)
            : new PipelineFileError(definition.SourceFile, (int)node.Start.Line, (int)node.Start.Column, key, reason);

    private static string UnknownKeyReason(string path)
    {
        string? closest = KeysByPath.Keys.Concat(Sections)
            .MinBy(known => EditDistance(known, path));
        bool near = closest is not null && EditDistance(closest, path) <= Math.Max(2, path.Length / 4);
        return near ? $"unknown key; did you mean '{closest}'?" : "unknown key (the README lists every key)";
    }

    private static IEnumerable<string> Prefixes(string path)
    {
        for (int dot = path.IndexOf('.', StringComparison.Ordinal); dot > 0;
             dot = path.IndexOf('.', dot + 1))
        {
            yield return path[..dot];
        }
    }

    private static int EditDistance(string a, string b)
    {
        var previous = new int[b.Length + 1];
        var current = new int[b.Length + 1];
        for (int j = 0; j <= b.Length; j++)
        {
            previous[j] = j;
        }
        for (int i = 1; i <= a.Length; i++)
        {
            current[0] = i;
            for (int j = 1; j <= b.Length; j++)
            {
                int substitution = previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1);
                current[j] = Math.Min(substitution, Math.Min(previous[j], current[j - 1]) + 1);
            }
            (previous, current) = (current, previous);
        }
        return previous[b.Length];
    }
}
