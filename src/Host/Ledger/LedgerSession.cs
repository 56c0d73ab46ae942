using System.Data.Common;

namespace DataflowContrastive.Host.Ledger;

/// <summary>One transaction on a ledger's database, and what to release when it ends.</summary>
internal sealed class LedgerSession(DbConnection connection, DbTransaction transaction, Func<ValueTask> release)
    : IAsyncDisposable
{
    public DbTransaction Transaction { get; } = transaction;

    /// <summary>A command in this transaction with named parameters (<c>@name</c> in the SQL).</summary>
    public DbCommand Command(string sql, params (string Name, object Value)[] parameters)
    {
        DbCommand command = connection.CreateCommand();
        command.Transaction = Transaction;
        command.CommandText = sql;
        foreach ((string name, object value) in parameters)
        {
            DbParameter parameter = command.CreateParameter();
            parameter.ParameterName = name;
            parameter.Value = value;
            command.Parameters.Add(parameter);
        }
        return command;
    }

    public async Task<int> ExecuteAsync(string sql, CancellationToken cancellation,
        params (string Name, object Value)[] parameters)
    {
        await using DbCommand command = Command(sql, parameters);
        return await command.ExecuteNonQueryAsync(cancellation);
    }

    public Task CommitAsync(CancellationToken cancellation) => Transaction.CommitAsync(cancellation);

    /// <summary>Rolls back unless committed, then releases the connection.</summary>
    public async ValueTask DisposeAsync()
    {
        await Transaction.DisposeAsync();
        await release();
    }
}
