using DataflowContrastive.Host.Ledger;

namespace DataflowContrastive.Tests.Host;

public sealed class LedgerSpecTests
{
    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("  ")]
    public void No_spec_is_the_sqlite_file_beside_the_outputs(string? spec) =>
        Assert.Equal(new LedgerSpec(LedgerBackend.Sqlite, "/out/ledger.db"), LedgerSpec.Parse(spec, "/out/ledger.db"));

    [Fact]
    public void A_sqlite_spec_names_its_file() =>
        Assert.Equal(new LedgerSpec(LedgerBackend.Sqlite, "/var/lib/dfc/ledger.db"),
            LedgerSpec.Parse("sqlite:/var/lib/dfc/ledger.db", "/out/ledger.db"));

    [Fact]
    public void A_postgres_uri_becomes_an_npgsql_connection_string()
    {
        LedgerSpec spec = LedgerSpec.Parse("postgres://dfc:s%40cret@db.example:6432/ledger?sslmode=require", "x.db");

        Assert.Equal(LedgerBackend.Postgres, spec.Backend);
        Assert.Equal("Host=db.example;Port=6432;Username=dfc;Password=s@cret;Database=ledger;SSL Mode=Require",
            spec.Target);
    }

    [Fact]
    public void A_postgres_uri_may_name_a_unix_socket_folder_as_its_host()
    {
        LedgerSpec spec = LedgerSpec.Parse("postgresql://dfc@/ledger?host=%2Frun%2Fpostgresql", "x.db");

        Assert.Equal("Username=dfc;Database=ledger;Host=/run/postgresql", spec.Target);
    }

    [Fact]
    public void An_npgsql_connection_string_is_taken_as_it_is()
    {
        LedgerSpec spec = LedgerSpec.Parse("Host=db;Database=ledger;Username=dfc", "x.db");

        Assert.Equal(new LedgerSpec(LedgerBackend.Postgres, "Host=db;Database=ledger;Username=dfc"), spec);
    }

    [Theory]
    [InlineData("/var/lib/dfc/ledger.db", "it is not one of the forms")]
    [InlineData("sqlite:", "it names no file after 'sqlite:'")]
    [InlineData("postgres://dfc@/ledger", "it names no host")]
    [InlineData("Database=ledger", "it names no host")]
    [InlineData("Host=db;Colour=blue", "Colour")]
    [InlineData("postgres://db/ledger?colour=blue", "its setting 'colour' is not an Npgsql connection setting")]
    public void A_spec_of_no_known_form_is_an_argument_error_that_quotes_it(string text, string why)
    {
        var error = Assert.Throws<ArgumentException>(() => LedgerSpec.Parse(text, "x.db"));

        Assert.StartsWith($"Ledger spec '{text}' is not a shard ledger: ", error.Message, StringComparison.Ordinal);
        Assert.Contains(why, error.Message, StringComparison.Ordinal);
        Assert.Contains("sqlite:PATH", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("postgres://dfc:hunter2@/ledger", "postgres://dfc:***@/ledger")]
    [InlineData("Database=ledger;Password=hunter2;Username=dfc", "Database=ledger;Password=***;Username=dfc")]
    public void An_error_about_a_spec_hides_its_password(string text, string shown)
    {
        var error = Assert.Throws<ArgumentException>(() => LedgerSpec.Parse(text, "x.db"));

        Assert.Contains($"'{shown}'", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("hunter2", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Opening_a_bad_spec_fails_before_touching_any_database()
    {
        var error = await Assert.ThrowsAsync<ArgumentException>(() =>
            ShardLedger.OpenAsync("mysql://db/ledger", "x.db", TimeProvider.System, default));

        Assert.Contains("'mysql://db/ledger'", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Opening_no_spec_creates_the_sqlite_file_at_the_default_path()
    {
        string work = Directory.CreateTempSubdirectory("dfc-ledger-spec-").FullName;
        try
        {
            string path = Path.Combine(work, "out", "ledger.db");
            await using (IShardLedger ledger = await ShardLedger.OpenAsync(null, path, TimeProvider.System, default))
            {
                Assert.IsType<SqliteShardLedger>(ledger);
            }
            Assert.True(File.Exists(path));
        }
        finally
        {
            Directory.Delete(work, recursive: true);
        }
    }
}
