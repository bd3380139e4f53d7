using BoxBot.Contracts;
using BoxBot.Mesh.Credentials;

namespace BoxBot.Cli.Mesh;

/// <summary>
/// Writes a new mesh user's credentials, once, mode 0600: <c>NAME.creds</c> (NATS's standard file), <c>NAME.creds.json</c>
/// (the Device Connect portal's shape, which the reference edge runtime reads) and, when the broker uses TLS,
/// <c>NAME.ca.crt</c> (the box's CA, which <c>creds.json</c> names). Nothing is overwritten.
/// </summary>
internal sealed class MeshCredentialFiles
{
    private const UnixFileMode Private = UnixFileMode.UserRead | UnixFileMode.UserWrite;

    private MeshCredentialFiles(string folder, string name)
    {
        Creds = Path.Combine(folder, name + ".creds");
        CredsJson = Path.Combine(folder, name + ".creds.json");
        Ca = Path.Combine(folder, name + ".ca.crt");
    }

    public string Creds { get; }

    public string CredsJson { get; }

    public string Ca { get; }

    /// <summary>The files for <paramref name="name"/> in <paramref name="folder"/>, or why they cannot be written (checked before the user is made).</summary>
    public static (MeshCredentialFiles? Files, string? Problem) Prepare(string folder, string name)
    {
        var full = Path.GetFullPath(folder);
        if (!Directory.Exists(full))
        {
            return (null, $"--out {full}: no such folder");
        }
        var files = new MeshCredentialFiles(full, name);
        foreach (var path in new[] { files.Creds, files.CredsJson, files.Ca })
        {
            if (File.Exists(path) || Directory.Exists(path))
            {
                return (null, $"{path} exists: move it away or choose another --out folder (credentials are never overwritten)");
            }
        }
        try
        {
            var probe = Path.Combine(full, $".boxbot-write-test-{Environment.ProcessId}");
            File.WriteAllText(probe, "");
            File.Delete(probe);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return (null, $"--out {full}: cannot write there ({e.Message})");
        }
        return (files, null);
    }

    /// <summary>Writes the files for <paramref name="issued"/>; returns the paths written.</summary>
    public IReadOnlyList<string> Write(MeshIssued issued)
    {
        ArgumentNullException.ThrowIfNull(issued);
        var written = new List<string>();
        var tls = issued.Urls.Any(u => u.StartsWith("tls://", StringComparison.Ordinal)) && issued.CaPem is not null;
        if (tls)
        {
            Create(Ca, issued.CaPem!);
            written.Add(Ca);
        }
        Create(Creds, CredsFile.Format(issued.Jwt, issued.Seed));
        written.Add(Creds);
        var portal = new PortalCredentials(issued.User.Name, issued.Tenant, [.. issued.Urls.Select(u => new Uri(u))], issued.Jwt, issued.Seed,
            tls ? issued.CaPem : null);
        Create(CredsJson, portal.ToJson(tls ? Ca : null));
        written.Add(CredsJson);
        return written;
    }

    private static void Create(string path, string text)
    {
        using var stream = new FileStream(path, new FileStreamOptions
        {
            Mode = FileMode.CreateNew,
            Access = FileAccess.Write,
            UnixCreateMode = Private,
        });
        using var writer = new StreamWriter(stream);
        writer.Write(text);
    }
}
