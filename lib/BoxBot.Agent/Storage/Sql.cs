using System.Globalization;
using Microsoft.Data.Sqlite;

namespace BoxBot.Agent.Storage;

/// <summary>
/// Parameterised statements for the agent's stores: values bind in order as <c>$a</c>, <c>$b</c>, <c>$c</c>, ... and are
/// never spliced into the SQL text (null binds as SQL NULL).
/// </summary>
internal static class Sql
{
    public static SqliteCommand Command(SqliteConnection c, string sql, params object?[] values)
    {
        var command = c.CreateCommand();
        command.CommandText = sql;
        for (var i = 0; i < values.Length; i++)
        {
            command.Parameters.AddWithValue("$" + (char)('a' + i), values[i] ?? DBNull.Value);
        }
        return command;
    }

    public static void Execute(SqliteConnection c, string sql, params object?[] values)
    {
        using var command = Command(c, sql, values);
        command.ExecuteNonQuery();
    }

    public static object? Scalar(SqliteConnection c, string sql, params object?[] values)
    {
        using var command = Command(c, sql, values);
        return command.ExecuteScalar();
    }

    public static bool Exists(SqliteConnection c, string sql, params object?[] values) => Scalar(c, sql, values) is not null;

    public static long Count(SqliteConnection c, string sql, params object?[] values) =>
        Convert.ToInt64(Scalar(c, sql, values), CultureInfo.InvariantCulture);
}
