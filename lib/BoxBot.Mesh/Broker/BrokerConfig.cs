using System.Text;

namespace BoxBot.Mesh.Broker;

/// <summary>The text of nats-server's configuration for the household broker, in NATS's decentralized JWT mode.</summary>
internal static class BrokerConfig
{
    /// <summary>
    /// <c>nats.conf</c>: the listener, the operator (trusted issuer of the accounts), the system account, the memory
    /// resolver with the accounts from <c>accounts.conf</c>, and TLS when the broker listens beyond loopback.
    /// </summary>
    public static string Server(BrokerPaths paths, BrokerListen listen, string serverName, string systemAccount)
    {
        var text = new StringBuilder();
        text.Append("# The household broker's configuration, written by boxbot (`boxbot mesh init`); changes here are overwritten.\n");
        text.Append("# Users are not listed here: each connects with a JWT its account signed (NATS decentralized authentication).\n");
        text.Append($"server_name: {Quote(serverName)}\n");
        text.Append($"listen: {Quote((listen.Lan ? "0.0.0.0" : "127.0.0.1") + ":" + listen.Port)}\n");
        text.Append("# No monitoring port, no cluster, no leaf nodes, no websocket, no JetStream.\n");
        text.Append($"pid_file: {Quote(paths.PidFile)}\n");
        text.Append("max_payload: 1048576\n");
        text.Append("max_connections: 1024\n");
        text.Append("write_deadline: \"5s\"\n");
        text.Append($"operator: {Quote(paths.OperatorJwt)}\n");
        text.Append($"system_account: {systemAccount}\n");
        text.Append("resolver: MEMORY\n");
        text.Append("include \"accounts.conf\"\n");
        if (listen.Lan)
        {
            text.Append("# Beyond loopback every client must use TLS; the certificate is signed by the box's own CA (ca.crt).\n");
            text.Append("tls {\n");
            text.Append($"  cert_file: {Quote(paths.ServerCertificate)}\n");
            text.Append($"  key_file: {Quote(paths.ServerKey)}\n");
            text.Append("  timeout: 2\n");
            text.Append("}\n");
        }
        return text.ToString();
    }

    /// <summary><c>accounts.conf</c>: the account JWTs the memory resolver serves, reread when the broker reloads.</summary>
    public static string Accounts(IReadOnlyList<(string PublicKey, string Jwt)> accounts)
    {
        var text = new StringBuilder("# Written by boxbot at every change of the mesh's users; the broker rereads it on reload (SIGHUP).\n");
        text.Append("resolver_preload: {\n");
        foreach (var (key, jwt) in accounts)
        {
            text.Append($"  {key}: {Quote(jwt)}\n");
        }
        text.Append("}\n");
        return text.ToString();
    }

    private static string Quote(string value)
    {
        if (value.Contains('"', StringComparison.Ordinal) || value.Contains('\n', StringComparison.Ordinal) || value.Contains('\\', StringComparison.Ordinal))
        {
            throw new ArgumentException($"'{value}' cannot be written into nats-server's configuration (quote, backslash or newline)");
        }
        return "\"" + value + "\"";
    }
}
