using System.Text.RegularExpressions;
using Npgsql;

namespace DataflowContrastive.Host.Ledger;

/// <summary>Which database holds a ledger.</summary>
public enum LedgerBackend
{
    /// <summary>An SQLite file, for the workers of one machine.</summary>
    Sqlite,

    /// <summary>A PostgreSQL database, shared by workers on several machines.</summary>
    Postgres,
}

/// <summary>
/// A parsed ledger spec: empty for the SQLite file beside the outputs, <c>sqlite:PATH</c>,
/// <c>postgres://USER:PASSWORD@HOST:PORT/DATABASE?KEY=VALUE</c> (or <c>postgresql://</c>), or an Npgsql connection
/// string such as <c>Host=db;Database=dfc;Username=dfc</c>.
/// </summary>
/// <param name="Target">The SQLite file path, or the Npgsql connection string.</param>
public sealed partial record LedgerSpec(LedgerBackend Backend, string Target)
{
    private const string Forms = "use sqlite:PATH, postgres://USER@HOST:PORT/DATABASE or Host=HOST;Database=DATABASE"
        + " (or nothing, for the SQLite file beside the outputs)";

    /// <summary>
    /// Parses <paramref name="spec"/>; null or blank means an SQLite file at <paramref name="defaultSqlitePath"/>.
    /// </summary>
    /// <exception cref="ArgumentException">The spec is none of the forms; the message quotes it, password hidden.
    /// </exception>
    public static LedgerSpec Parse(string? spec, string defaultSqlitePath)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(defaultSqlitePath);
        string text = spec?.Trim() ?? "";
        if (text.Length == 0)
        {
            return new LedgerSpec(LedgerBackend.Sqlite, defaultSqlitePath);
        }
        if (text.StartsWith("sqlite:", StringComparison.OrdinalIgnoreCase))
        {
            string path = text["sqlite:".Length..].Trim();
            return path.Length > 0
                ? new LedgerSpec(LedgerBackend.Sqlite, path)
                : throw Bad(text, "it names no file after 'sqlite:'");
        }
        if (text.StartsWith("postgres://", StringComparison.OrdinalIgnoreCase)
            || text.StartsWith("postgresql://", StringComparison.OrdinalIgnoreCase))
        {
            return new LedgerSpec(LedgerBackend.Postgres, FromUri(text));
        }
        if (text.Contains('=', StringComparison.Ordinal))
        {
            return new LedgerSpec(LedgerBackend.Postgres, FromConnectionString(text));
        }
        throw Bad(text, "it is not one of the forms");
    }

    /// <summary>The spec as it may be logged: any password is replaced by <c>***</c>.</summary>
    public string Describe() => Backend == LedgerBackend.Sqlite ? $"sqlite:{Target}" : Redact(Target);

    /// <summary>Replaces a password in a connection string or URI by <c>***</c>.</summary>
    public static string Redact(string spec)
    {
        ArgumentNullException.ThrowIfNull(spec);
        string hidden = UriPassword().Replace(spec, "$1***@");
        return KeyPassword().Replace(hidden, "$1***");
    }

    /// <summary>
    /// Reads libpq's URI form, <c>postgres://[USER[:PASSWORD]@][HOST][:PORT][/DATABASE][?KEY=VALUE&amp;...]</c>, by
    /// hand: <see cref="Uri"/> refuses an empty host, which a unix socket (<c>?host=/run/postgresql</c>) needs.
    /// </summary>
    private static string FromUri(string text)
    {
        string rest = text[(text.IndexOf("://", StringComparison.Ordinal) + 3)..];
        (rest, string query) = SplitAt(rest, '?');
        (string authority, string database) = SplitAt(rest, '/');
        int at = authority.LastIndexOf('@');
        string user = at >= 0 ? authority[..at] : "";
        string hostPort = authority[(at + 1)..];

        var builder = new NpgsqlConnectionStringBuilder();
        if (hostPort.Length > 0)
        {
            // A bracketed IPv6 address holds colons of its own; the port follows the closing bracket.
            int colon = hostPort.LastIndexOf(':');
            bool hasPort = colon > hostPort.LastIndexOf(']');
            Set(builder, text, "Host", Uri.UnescapeDataString(hasPort ? hostPort[..colon] : hostPort).Trim('[', ']'));
            if (hasPort)
            {
                Set(builder, text, "Port", hostPort[(colon + 1)..]);
            }
        }
        if (user.Length > 0)
        {
            (string name, string password) = SplitAt(user, ':');
            Set(builder, text, "Username", Uri.UnescapeDataString(name));
            if (password.Length > 0)
            {
                Set(builder, text, "Password", Uri.UnescapeDataString(password));
            }
        }
        if (database.Length > 0)
        {
            Set(builder, text, "Database", Uri.UnescapeDataString(database));
        }
        foreach (string pair in query.Split('&', StringSplitOptions.RemoveEmptyEntries))
        {
            (string key, string value) = SplitAt(pair, '=');
            Set(builder, text, Uri.UnescapeDataString(key), Uri.UnescapeDataString(value));
        }
        return RequireHost(builder, text);
    }

    private static (string Before, string After) SplitAt(string text, char separator)
    {
        int at = text.IndexOf(separator, StringComparison.Ordinal);
        return at >= 0 ? (text[..at], text[(at + 1)..]) : (text, "");
    }

    private static string FromConnectionString(string text)
    {
        NpgsqlConnectionStringBuilder builder;
        try
        {
            builder = new NpgsqlConnectionStringBuilder(text);
        }
        catch (ArgumentException e)
        {
            throw Bad(text, e.Message);
        }
        return RequireHost(builder, text);
    }

    private static void Set(NpgsqlConnectionStringBuilder builder, string text, string key, string value)
    {
        try
        {
            builder[key] = value;
        }
        catch (Exception e) when (e is ArgumentException or FormatException or KeyNotFoundException)
        {
            throw Bad(text, $"its setting '{key}' is not an Npgsql connection setting ({e.Message})");
        }
    }

    private static string RequireHost(NpgsqlConnectionStringBuilder builder, string text) =>
        string.IsNullOrEmpty(builder.Host) ? throw Bad(text, "it names no host") : builder.ConnectionString;

    private static ArgumentException Bad(string text, string why) =>
        new($"Ledger spec '{Redact(text)}' is not a shard ledger: {why}; {Forms}.");

    [GeneratedRegex(@"(://[^:/@]*:)[^@/]*@")]
    private static partial Regex UriPassword();

    [GeneratedRegex(@"(?i)((?:password|pwd)\s*=\s*)[^;]*")]
    private static partial Regex KeyPassword();
}
