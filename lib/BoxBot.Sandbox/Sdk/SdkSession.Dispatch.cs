using System.Text;
using System.Text.Json;
using BoxBot.Contracts;
using BoxBot.Sandbox.Sdk.Internal;

namespace BoxBot.Sandbox.Sdk;

public sealed partial class SdkSession
{
    /// <summary>Longest secret value in UTF-8 bytes (same as the agent's store).</summary>
    public const int MaxSecretValueBytes = SecretRules.MaxValueBytes;

    /// <summary>Longest skill body through the SDK, in UTF-8 bytes: what fits in one request line with room to spare.</summary>
    public const int MaxSkillBodyBytes = 48 * 1024;

    private async ValueTask<byte[]> DispatchAsync(ReadOnlyMemory<byte> line, CancellationToken ct)
    {
        using var request = SdkRequest.TryParse(line, out var parsedId, out var parseCode, out var parseError);
        if (request is null)
        {
            SdkLog.Call(_logger, "(unparsed)", "invalid-request");
            return SdkReply.Error(parsedId, parseCode, parseError);
        }

        // Method names are logged only when they are ours: an unknown one is job-chosen text.
        var method = request.Method switch
        {
            "secrets.store" or "secrets.list" or "secrets.has" or "secrets.delete" or "output.attach" or "workspace.path" or "skill.save" => request.Method,
            _ => null,
        };
        if (method is null)
        {
            SdkLog.Call(_logger, "(unknown)", "method-not-found");
            return SdkReply.Error(request.Id, SdkErrorCodes.MethodNotFound,
                "no such SDK method; methods are secrets.store, secrets.list, secrets.has, secrets.delete, output.attach, workspace.path, skill.save");
        }

        try
        {
            var reply = method switch
            {
                "secrets.store" => await StoreAsync(request, ct).ConfigureAwait(false),
                "secrets.list" => await ListAsync(request, ct).ConfigureAwait(false),
                "secrets.has" => await HasAsync(request, ct).ConfigureAwait(false),
                "secrets.delete" => await DeleteAsync(request, ct).ConfigureAwait(false),
                "output.attach" => Attach(request),
                "skill.save" => await SaveSkillAsync(request, ct).ConfigureAwait(false),
                _ => WorkspacePath(request),
            };
            SdkLog.Call(_logger, method, reply.Status);
            return reply.Line;
        }
        catch (SdkRefusedException e)
        {
            SdkLog.Call(_logger, method, "refused");
            return SdkReply.Error(request.Id, SdkErrorCodes.Refused, e.Message);
        }
        catch (Exception e) when (e is not OperationCanceledException || !ct.IsCancellationRequested)
        {
            // The host's message may say anything (even a value); the job gets a fixed text, the log the type only.
            SdkLog.HostFailed(_logger, method, e.GetType().Name);
            return SdkReply.Error(request.Id, SdkErrorCodes.InternalError, $"the host could not complete {method}");
        }
    }

    private async ValueTask<Outcome> StoreAsync(SdkRequest request, CancellationToken ct)
    {
        if (Invalid(request, out var bad, "name", "value"))
        {
            return bad;
        }

        var name = request.Params.GetProperty("name").GetString()!;
        var value = request.Params.GetProperty("value").GetString()!;
        if (!IsSecretName(name))
        {
            return BadName(request);
        }

        if (Encoding.UTF8.GetByteCount(value) > MaxSecretValueBytes || value.Contains('\0'))
        {
            return Outcome.Error(request, SdkErrorCodes.InvalidParams,
                $"a secret value must be at most {MaxSecretValueBytes} bytes of UTF-8 without NUL characters");
        }

        await _host.StoreSecretAsync(name, value, ct).ConfigureAwait(false);
        return Outcome.Ok(request, w =>
        {
            w.WriteStartObject();
            w.WriteEndObject();
        });
    }

    private async ValueTask<Outcome> ListAsync(SdkRequest request, CancellationToken ct)
    {
        if (Invalid(request, out var bad))
        {
            return bad;
        }

        var names = await _host.ListSecretsAsync(ct).ConfigureAwait(false);
        return Outcome.Ok(request, w =>
        {
            w.WriteStartObject();
            w.WriteStartArray("names");
            foreach (var name in names)
            {
                w.WriteStringValue(name);
            }

            w.WriteEndArray();
            w.WriteEndObject();
        });
    }

    private async ValueTask<Outcome> HasAsync(SdkRequest request, CancellationToken ct)
    {
        if (Invalid(request, out var bad, "name"))
        {
            return bad;
        }

        var name = request.Params.GetProperty("name").GetString()!;
        if (!IsSecretName(name))
        {
            return BadName(request);
        }

        var has = await _host.HasSecretAsync(name, ct).ConfigureAwait(false);
        return Outcome.Ok(request, w =>
        {
            w.WriteStartObject();
            w.WriteBoolean("has", has);
            w.WriteEndObject();
        });
    }

    private async ValueTask<Outcome> DeleteAsync(SdkRequest request, CancellationToken ct)
    {
        if (Invalid(request, out var bad, "name"))
        {
            return bad;
        }

        var name = request.Params.GetProperty("name").GetString()!;
        if (!IsSecretName(name))
        {
            return BadName(request);
        }

        var deleted = await _host.DeleteSecretAsync(name, ct).ConfigureAwait(false);
        return Outcome.Ok(request, w =>
        {
            w.WriteStartObject();
            w.WriteBoolean("deleted", deleted);
            w.WriteEndObject();
        });
    }

    private async ValueTask<Outcome> SaveSkillAsync(SdkRequest request, CancellationToken ct)
    {
        if (Invalid(request, out var bad, "name", "description", "body"))
        {
            return bad;
        }

        var name = request.Params.GetProperty("name").GetString()!;
        var description = request.Params.GetProperty("description").GetString()!;
        var body = request.Params.GetProperty("body").GetString()!;
        // A first check on sizes only; the agent's catalog is the authority on names and everything else.
        if (name.Length is 0 or > 40 || description.Length is 0 or > 300 || body.Length == 0 || Encoding.UTF8.GetByteCount(body) > MaxSkillBodyBytes)
        {
            return Outcome.Error(request, SdkErrorCodes.InvalidParams,
                $"skill.save takes a name (1 to 40 characters), a description (1 to 300) and a body (1 to {MaxSkillBodyBytes} bytes of UTF-8)");
        }

        await _host.SaveSkillAsync(name, description, body, ct).ConfigureAwait(false);
        return Outcome.Ok(request, w =>
        {
            w.WriteStartObject();
            w.WriteEndObject();
        });
    }

    private Outcome WorkspacePath(SdkRequest request)
    {
        if (Invalid(request, out var bad))
        {
            return bad;
        }

        return Outcome.Ok(request, w =>
        {
            w.WriteStartObject();
            w.WriteString("path", _options.WorkspaceInJob);
            w.WriteEndObject();
        });
    }

    /// <summary>The shared rule (<see cref="SecretRules.IsValidName"/>): checked by hand, no regex engine sees job input.</summary>
    public static bool IsSecretName(string name) => SecretRules.IsValidName(name);

    private static Outcome BadName(SdkRequest request) =>
        Outcome.Error(request, SdkErrorCodes.InvalidParams, "a secret name must match ^[A-Z][A-Z0-9_]{0,63}$");

    /// <summary>True (with the reply) unless params has exactly <paramref name="names"/>, each a string.</summary>
    private static bool Invalid(SdkRequest request, out Outcome reply, params ReadOnlySpan<string> names)
    {
        var count = 0;
        foreach (var member in request.Params.EnumerateObject())
        {
            count++;
            if (!names.Contains(member.Name))
            {
                reply = Outcome.Error(request, SdkErrorCodes.InvalidParams, $"{request.Method} takes params {Describe(names)}");
                return true;
            }

            if (SdkRequest.TryGetString(member.Value) is null)
            {
                reply = Outcome.Error(request, SdkErrorCodes.InvalidParams, $"{request.Method}: \"{member.Name}\" must be a string of valid Unicode");
                return true;
            }
        }

        if (count != names.Length)
        {
            reply = Outcome.Error(request, SdkErrorCodes.InvalidParams, $"{request.Method} takes params {Describe(names)}");
            return true;
        }

        reply = default;
        return false;
    }

    private static string Describe(ReadOnlySpan<string> names) =>
        names.IsEmpty ? "{}" : "{" + string.Join(", ", names.ToArray()) + "} (strings)";

    /// <summary>A reply line and the outcome word the log records for it.</summary>
    private readonly record struct Outcome(byte[] Line, string Status)
    {
        public static Outcome Ok(SdkRequest request, Action<Utf8JsonWriter> result) => new(SdkReply.Result(request.Id, result), "ok");

        public static Outcome Error(SdkRequest request, int code, string message) =>
            new(SdkReply.Error(request.Id, code, message), code == SdkErrorCodes.InvalidParams ? "invalid-params" : "refused");
    }
}
