using System.Text;
using BoxBot.Sandbox.Sdk.Internal;

namespace BoxBot.Sandbox.Sdk;

public sealed partial class SdkSession
{
    private const int MaxPathBytes = 4096;

    private Outcome Attach(SdkRequest request)
    {
        if (Invalid(request, out var bad, "path"))
        {
            return bad;
        }

        var path = request.Params.GetProperty("path").GetString()!;
        lock (_attachments)
        {
            if (_attachments.Count >= _options.MaxAttachments)
            {
                return RefuseAttach(request, "too-many", $"at most {_options.MaxAttachments} attachments per job");
            }
        }

        if (path.Length == 0 || path.Contains('\0') || Encoding.UTF8.GetByteCount(path) > MaxPathBytes)
        {
            return RefuseAttach(request, "bad-path", $"the path must be 1 to {MaxPathBytes} bytes without NUL");
        }

        var components = Components(path);
        if (components is null)
        {
            return RefuseAttach(request, "outside", $"the path is outside the workspace {_options.WorkspaceInJob}");
        }

        var content = WorkspaceFile.Read(_options.WorkspaceHostPath, components, _options.MaxAttachmentBytes, out var refusal);
        if (content is null)
        {
            return RefuseAttach(request, "file", refusal);
        }

        string name;
        lock (_attachments)
        {
            // Checked again: the count is the one rule a concurrent caller could race, and the lock makes it exact.
            if (_attachments.Count >= _options.MaxAttachments)
            {
                return RefuseAttach(request, "too-many", $"at most {_options.MaxAttachments} attachments per job");
            }

            name = UniqueName(components[^1]);
            _attachments.Add(new SdkAttachment(name, content));
        }

        return Outcome.Ok(request, w =>
        {
            w.WriteStartObject();
            w.WriteString("name", name);
            w.WriteEndObject();
        });
    }

    private Outcome RefuseAttach(SdkRequest request, string tag, string message)
    {
        SdkLog.AttachRefused(_logger, tag);
        return Outcome.Error(request, SdkErrorCodes.AttachmentRefused, "output.attach: " + message);
    }

    /// <summary>The path's components below the workspace, or null when it is not below it (absolute elsewhere, or any "..").</summary>
    private string[]? Components(string path)
    {
        if (path.StartsWith('/'))
        {
            var prefix = _options.WorkspaceInJob.TrimEnd('/');
            if (!path.StartsWith(prefix + "/", StringComparison.Ordinal))
            {
                return null;
            }

            path = path[(prefix.Length + 1)..];
        }

        var parts = path.Split('/', StringSplitOptions.RemoveEmptyEntries).Where(p => p != ".").ToArray();
        // ".." is refused outright rather than resolved: nothing legitimate needs it and resolving invites mistakes.
        return parts.Length == 0 || parts.Contains("..") ? null : parts;
    }

    /// <summary>The file's base name, with -2, -3, ... before the extension when another attachment already has it.</summary>
    private string UniqueName(string baseName)
    {
        var name = baseName;
        var extension = Path.GetExtension(baseName);
        var stem = baseName[..^extension.Length];
        for (var n = 2; _attachments.Exists(a => a.Name == name); n++)
        {
            name = $"{stem}-{n}{extension}";
        }

        return name;
    }
}
