using System.Net;
using BoxBot.Config;
using BoxBot.Mesh;
using BoxBot.Mesh.Broker;
using BoxBot.Mesh.Credentials;

namespace BoxBot.PluginHost.Mesh;

/// <summary>How the box connects to the mesh, resolved from <c>[mesh]</c> and the credentials: who it is, where, how it proves it.</summary>
/// <param name="Authority">The household broker's authority (local broker only): it mints the box's user and the others.</param>
public sealed record MeshPlan(MeshIdentity Identity, MeshOptions Options, BrokerAuthority? Authority);

/// <summary>
/// Turns <see cref="MeshSettings"/> and the credential store into a <see cref="MeshPlan"/>, refusing what would be unsafe
/// or cannot work, with a message that names the setting or credential at fault and the fix.
/// </summary>
public static class MeshConnector
{
    /// <exception cref="MeshException"><see cref="MeshErrorKind.NotConfigured"/>: the message says what to change.</exception>
    public static MeshPlan Plan(MeshSettings settings, CredentialStore credentials, BoxPaths paths, TimeProvider time, Action reloadBroker)
    {
        ArgumentNullException.ThrowIfNull(settings);
        ArgumentNullException.ThrowIfNull(credentials);
        var name = $"boxbot-plugin-host@{Environment.MachineName}";
        if (settings.Broker == MeshBroker.Local)
        {
            var identity = new MeshIdentity(settings.Tenant, settings.EffectiveBoxId);
            var brokerPaths = BrokerPaths.For(paths);
            var authority = BrokerAuthority.Open(brokerPaths, identity, time, reloadBroker);
            var box = authority.IssueBox();
            var url = BrokerAuthority.ReadClientUrl(brokerPaths);
            return new MeshPlan(identity, MeshOptions.For(url) with
            {
                Jwt = box.Jwt,
                Seed = box.Seed,
                InboxPrefix = MeshGrants.InboxPrefix(identity.BoxId),
                CaPem = url.Scheme == "tls" ? authority.CaPem : null,
                Name = name,
            }, authority);
        }
        return Remote(settings, credentials, name);
    }

    private static MeshPlan Remote(MeshSettings settings, CredentialStore credentials, string name)
    {
        var tenant = settings.Tenant;
        var url = settings.Url;
        var options = (MeshOptions?)null;
        string? caPem = null, certPem = null, keyPem = null;
        if (Credential(credentials, "mesh-creds-json") is { } json)
        {
            PortalCredentials portal;
            try
            {
                portal = PortalCredentials.Parse(json, "the credential mesh-creds-json", credentials.Directory ?? "/");
            }
            catch (FormatException e)
            {
                throw new MeshException(MeshErrorKind.NotConfigured, e.Message + ". Put the portal's *.creds.json for this box there.", e);
            }
            if (portal.DeviceId != settings.EffectiveBoxId)
            {
                throw new MeshException(MeshErrorKind.NotConfigured,
                    $"The credential mesh-creds-json is for device '{portal.DeviceId}', but this box is '{settings.EffectiveBoxId}' (mesh.box_id): "
                    + $"set mesh.box_id = \"{portal.DeviceId}\", or put this box's own credentials there.");
            }
            tenant = tenant == "default" ? portal.Tenant : tenant;
            url ??= portal.Urls.FirstOrDefault();
            (caPem, certPem, keyPem) = (portal.CaPem, portal.CertPem, portal.KeyPem);
            options = new MeshOptions { Url = new Uri("nats://placeholder"), Jwt = portal.Jwt, Seed = portal.Seed };
        }
        else if (Credential(credentials, "mesh-creds") is { } creds)
        {
            try
            {
                var (jwt, seed) = CredsFile.Parse(creds, "the credential mesh-creds");
                options = new MeshOptions { Url = new Uri("nats://placeholder"), Jwt = jwt, Seed = seed };
            }
            catch (FormatException e)
            {
                throw new MeshException(MeshErrorKind.NotConfigured, e.Message + ". Put a NATS .creds file there.", e);
            }
        }
        else if (Credential(credentials, "mesh-password") is { } password)
        {
            if (settings.User.Length == 0)
            {
                throw new MeshException(MeshErrorKind.NotConfigured, "The credential mesh-password is set but mesh.user is empty: set the user it belongs to.");
            }
            options = new MeshOptions { Url = new Uri("nats://placeholder"), User = settings.User, Password = password };
        }
        if (url is null)
        {
            throw new MeshException(MeshErrorKind.NotConfigured,
                "mesh.broker = \"remote\" needs the broker's address: set mesh.url, or the credential mesh-creds-json (whose urls it takes).");
        }
        var identity = new MeshIdentity(tenant, settings.EffectiveBoxId);
        if (settings.CaFile.Length > 0)
        {
            caPem = ReadFile(settings.CaFile, "mesh.ca_file");
        }
        if (settings.TlsCertFile.Length > 0)
        {
            certPem = ReadFile(settings.TlsCertFile, "mesh.tls_cert_file");
            keyPem = Credential(credentials, "mesh-tls-key")
                ?? throw new MeshException(MeshErrorKind.NotConfigured, "mesh.tls_cert_file is set but the credential mesh-tls-key (its private key) is not.");
        }
        var hasCredentials = options is not null;
        if (settings.ExposureProblem(url, hasCredentials) is { } problem)
        {
            throw new MeshException(MeshErrorKind.NotConfigured, problem);
        }
        if (url.Scheme == "tls" && caPem is null)
        {
            throw new MeshException(MeshErrorKind.NotConfigured,
                $"mesh.url {url} uses TLS but no CA is configured to check the broker's certificate against: set mesh.ca_file (a PEM file).");
        }
        return new MeshPlan(identity, (options ?? new MeshOptions { Url = url }) with
        {
            Url = url,
            CaPem = caPem,
            ClientCertificatePem = certPem,
            ClientKeyPem = keyPem,
            Name = name,
        }, null);
    }

    private static string? Credential(CredentialStore store, string name)
    {
        try
        {
            return store.TryGetSet(name);
        }
        catch (CredentialException e)
        {
            throw new MeshException(MeshErrorKind.NotConfigured, e.Message, e);
        }
    }

    private static string ReadFile(string path, string key)
    {
        try
        {
            return File.ReadAllText(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new MeshException(MeshErrorKind.NotConfigured, $"{key} {path}: {e.Message}", e);
        }
    }

    /// <summary>Where devices reach the local broker (on the port it listens on): its LAN names when it listens there, else this machine only.</summary>
    public static IReadOnlyList<string> DeviceUrls(MeshSettings settings, BoxPaths paths)
    {
        ArgumentNullException.ThrowIfNull(settings);
        var port = BrokerAuthority.ReadClientUrl(BrokerPaths.For(paths)).Port.ToString(System.Globalization.CultureInfo.InvariantCulture);
        if (!settings.ListenLan)
        {
            return [$"nats://127.0.0.1:{port}"];
        }
        var host = Dns.GetHostName();
        return [$"tls://{host}.local:{port}", $"tls://{host}:{port}"];
    }
}
