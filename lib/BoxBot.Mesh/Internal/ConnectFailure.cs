using System.Net.Sockets;
using NATS.Client.Core;

namespace BoxBot.Mesh.Internal;

/// <summary>Turns a failed NATS connect into a <see cref="MeshException"/> a person can act on, without secrets.</summary>
internal static class ConnectFailure
{
    public static MeshException Describe(MeshOptions options, Exception ex)
    {
        var where = $"{options.Url.Scheme}://{options.Url.Host}:{options.Url.Port}";
        for (var e = ex; e is not null; e = e.InnerException)
        {
            if (e is BrokerCertificateException certificate)
            {
                return new MeshException(MeshErrorKind.TlsRejected, $"Refused the mesh broker at {where}: {certificate.Message}.", ex);
            }
            if (e.Message.Contains("alert bad certificate", StringComparison.Ordinal) || e.Message.Contains("certificate required", StringComparison.Ordinal))
            {
                return new MeshException(MeshErrorKind.TlsRejected,
                    $"The mesh broker at {where} refused this client's TLS certificate ({(options.ClientCertificatePem is null ? "none was configured" : "not signed by a CA it trusts")}).", ex);
            }
            if (e.Message.Contains("does not support TLS", StringComparison.Ordinal))
            {
                return new MeshException(MeshErrorKind.TlsRejected, $"The mesh broker at {where} does not offer TLS, and a tls:// URL requires it.", ex);
            }
        }
        if (IsAuthError(ex))
        {
            return new MeshException(
                MeshErrorKind.AuthenticationFailed,
                $"The mesh broker at {where} refused {Identity(options)} (authorization violation). "
                + (string.IsNullOrEmpty(options.Jwt)
                    ? "Check the mesh user and password, or token, in the credentials store against the broker's configuration."
                    : "The JWT may be expired, revoked, or issued by an account this broker does not trust, or the seed may not be the JWT's."),
                ex);
        }

        return new MeshException(
            MeshErrorKind.Unreachable,
            $"Could not connect to the mesh broker at {where} within {options.ConnectTimeout.TotalSeconds:0.#} s: {Reason(ex)}. "
            + "Check that nats-server is running and the mesh URL is right.",
            ex);
    }

    /// <summary>Who we tried to be, for messages: the user name, never a password or token.</summary>
    public static string Identity(MeshOptions options) =>
        !string.IsNullOrEmpty(options.Jwt) ? $"the JWT user '{JwtName(options.Jwt)}'"
        : !string.IsNullOrEmpty(options.User) ? $"user '{options.User}'"
        : !string.IsNullOrEmpty(options.Token) ? "a token client"
        : "an anonymous client";

    private static string JwtName(string jwt)
    {
        try
        {
            var claims = Credentials.NatsJwt.Read(jwt);
            return claims.Name.Length > 0 ? claims.Name : claims.Subject;
        }
        catch (FormatException)
        {
            return "?";
        }
    }

    private static bool IsAuthError(Exception ex)
    {
        for (var e = ex; e is not null; e = e.InnerException)
        {
            if (e is NatsServerException { IsAuthError: true })
            {
                return true;
            }

            // Some NATS client paths surface the broker's -ERR only as text.
            if (e.Message.Contains("Authorization Violation", StringComparison.OrdinalIgnoreCase))
            {
                return true;
            }
        }

        return false;
    }

    private static string Reason(Exception ex)
    {
        for (var e = ex; e is not null; e = e.InnerException)
        {
            if (e is SocketException socket)
            {
                return socket.SocketErrorCode.ToString();
            }

            if (e is TimeoutException or NatsTimeoutException)
            {
                return "timed out";
            }
        }

        var innermost = ex;
        while (innermost.InnerException is not null)
        {
            innermost = innermost.InnerException;
        }

        return innermost.Message;
    }
}
