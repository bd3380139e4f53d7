using System.Text.Json;

namespace BoxBot.WhatsApp.Outbound;

/// <summary>
/// The development outbox: with no Graph credentials, messages are appended here as JSON lines instead of being sent,
/// so a developer sees what the box would have said. The file holds message texts: owner-only (0600), like the state folder.
/// </summary>
internal sealed class Outbox(string path, TimeProvider time)
{
    private const UnixFileMode OwnerOnly = UnixFileMode.UserRead | UnixFileMode.UserWrite;

    private readonly Lock _gate = new();

    public string Path { get; } = System.IO.Path.GetFullPath(path);

    /// <summary>Appends one line and flushes it to the disk before returning.</summary>
    /// <exception cref="IOException">The file cannot be written; the message names it.</exception>
    public void Append(string to, string text, int parts, string reason)
    {
        var line = JsonSerializer.SerializeToUtf8Bytes(new OutboxLine
        {
            Time = time.GetUtcNow(),
            To = to,
            Text = text,
            Parts = parts,
            Sent = false,
            Reason = reason,
        }, GraphJsonContext.Default.OutboxLine);
        var options = new FileStreamOptions
        {
            Mode = FileMode.Append,
            Access = FileAccess.Write,
            Share = FileShare.Read,
            UnixCreateMode = OwnerOnly,
        };
        try
        {
            lock (_gate)
            {
                using var file = new FileStream(Path, options);
                // An outbox created by hand (or before the mode was enforced) is tightened rather than left readable.
                if ((File.GetUnixFileMode(file.SafeFileHandle) & ~OwnerOnly) != 0)
                {
                    File.SetUnixFileMode(file.SafeFileHandle, OwnerOnly);
                }
                file.Write(line);
                file.WriteByte((byte)'\n');
                file.Flush(flushToDisk: true);
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new IOException($"cannot write the WhatsApp outbox {Path}: {e.Message}", e);
        }
    }
}
