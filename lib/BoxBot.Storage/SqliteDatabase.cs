using Microsoft.Data.Sqlite;

namespace BoxBot.Storage;

/// <summary>Opens a SQLite database file owner-only, in WAL mode, migrated to the newest schema this code knows.</summary>
public static class SqliteDatabase
{
    private const UnixFileMode OwnerOnly = UnixFileMode.UserRead | UnixFileMode.UserWrite;

    /// <summary>
    /// Opens (creating if missing) <paramref name="path"/> and applies the <paramref name="migrations"/> it lacks:
    /// migration <c>i</c> (0-based) takes the schema from version <c>i</c> to <c>i + 1</c>, in one transaction each.
    /// Migrations are append-only: never edit one that has shipped.
    /// </summary>
    /// <param name="path">The database file.</param>
    /// <param name="migrations">The schema's migrations, in order.</param>
    /// <param name="exclusive">
    /// The opening process is the file's only user for as long as the connection lives (SQLite's EXCLUSIVE locking mode,
    /// set before WAL is entered): no lock is taken and released around each transaction, and the WAL index lives in the
    /// process's memory instead of a shared-memory file. Another connection to the file then waits, and fails at the busy
    /// timeout.
    /// </param>
    /// <exception cref="StorageException">The file is not a database, is newer than this code, or cannot be opened.</exception>
    public static SqliteConnection Open(string path, IReadOnlyList<string> migrations, bool exclusive = false)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        ArgumentNullException.ThrowIfNull(migrations);
        if (OperatingSystem.IsWindows())
        {
            throw new PlatformNotSupportedException("boxbot runs on Linux");
        }

        CreateOwnerOnly(path);
        var connection = new SqliteConnection(new SqliteConnectionStringBuilder
        {
            DataSource = path,
            Mode = SqliteOpenMode.ReadWrite, // the file exists now; never let SQLite create one with the umask's mode
            Pooling = false,
        }.ToString());
        try
        {
            connection.Open();
            if (exclusive)
            {
                Execute(connection, "PRAGMA locking_mode = EXCLUSIVE;");
            }
            Execute(connection, "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON; PRAGMA busy_timeout = 5000;");
            Migrate(connection, path, migrations);
            return connection;
        }
        catch (SqliteException e)
        {
            connection.Dispose();
            throw new StorageException($"{path}: {e.Message}", e);
        }
        catch
        {
            connection.Dispose();
            throw;
        }
    }

    /// <summary>Runs <paramref name="sql"/> (one or more statements) with no result.</summary>
    public static void Execute(SqliteConnection connection, string sql)
    {
        ArgumentNullException.ThrowIfNull(connection);
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        command.ExecuteNonQuery();
    }

    /// <summary>The first column of the first row, as a long (0 when there is no row).</summary>
    public static long Scalar(SqliteConnection connection, string sql)
    {
        ArgumentNullException.ThrowIfNull(connection);
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        return command.ExecuteScalar() is long value ? value : 0;
    }

    private static void Migrate(SqliteConnection connection, string path, IReadOnlyList<string> migrations)
    {
        var version = Scalar(connection, "PRAGMA user_version");
        if (version > migrations.Count)
        {
            throw new StorageException(
                $"{path} has schema version {version}, newer than this boxbot knows ({migrations.Count}): it was written by a newer release. " +
                "Install that release again (or restore a backup); an older one must not write it.");
        }

        for (var next = (int)version; next < migrations.Count; next++)
        {
            using var transaction = connection.BeginTransaction();
            using (var command = connection.CreateCommand())
            {
                command.Transaction = transaction;
                command.CommandText = migrations[next] + $"; PRAGMA user_version = {next + 1};";
                command.ExecuteNonQuery();
            }
            transaction.Commit();
        }
    }

    private static void CreateOwnerOnly(string path)
    {
        var directory = Path.GetDirectoryName(Path.GetFullPath(path))!;
        if (!Directory.Exists(directory))
        {
            throw new StorageException($"{path}: the folder {directory} does not exist");
        }

        try
        {
            // CreateNew with an explicit mode: no window in which the file exists with the umask's mode.
            using var _ = new FileStream(path, new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write, UnixCreateMode = OwnerOnly });
        }
        catch (IOException) when (File.Exists(path))
        {
            if ((File.GetUnixFileMode(path) & (UnixFileMode.GroupWrite | UnixFileMode.OtherWrite | UnixFileMode.OtherRead)) != 0)
            {
                throw new StorageException($"{path} can be read or changed by others than its owner; fix it with: chmod 600 {path}");
            }
        }
    }
}

/// <summary>A database could not be opened or migrated; the message names the file and what to do.</summary>
public sealed class StorageException : Exception
{
    public StorageException(string message, Exception? innerException = null) : base(message, innerException) { }
}
