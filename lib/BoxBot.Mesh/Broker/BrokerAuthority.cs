using System.Net;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json;
using BoxBot.Config;
using BoxBot.Mesh.Credentials;
using NATS.NKeys;

namespace BoxBot.Mesh.Broker;

/// <summary>
/// The issuer of the household broker's credentials: holds the operator's and the account's keys, mints each user's
/// JWT with exactly its own subjects (<see cref="MeshGrants"/>), keeps the list of users, and revokes them. A revocation
/// rewrites the account's JWT (its <c>revocations</c>) into <c>accounts.conf</c> and asks the broker to reload: the
/// revoked user's connections are closed, nobody else's. Thread-safe.
/// </summary>
public sealed class BrokerAuthority : IDisposable
{
    private const UnixFileMode Private = UnixFileMode.UserRead | UnixFileMode.UserWrite;
    private const UnixFileMode BrokerReadable = Private | UnixFileMode.GroupRead;
    private const string AccountName = "boxbot";
    private const string SystemAccountName = "SYS";

    private readonly BrokerPaths _paths;
    private readonly MeshIdentity _mesh;
    private readonly TimeProvider _time;
    private readonly Action _reload;
    private readonly KeyPair _operator;
    private readonly KeyPair _account;
    private readonly KeyPair _system;
    private readonly Lock _lock = new();
    private MeshUsersFile _users;

    private BrokerAuthority(BrokerPaths paths, MeshIdentity mesh, TimeProvider time, Action reload)
    {
        _paths = paths;
        _mesh = mesh;
        _time = time;
        _reload = reload;
        _operator = ReadSeed(paths.OperatorSeed, PrefixByte.Operator);
        _account = ReadSeed(paths.AccountSeed, PrefixByte.Account);
        _system = ReadSeed(paths.SystemAccountSeed, PrefixByte.Account);
        _users = ReadUsers(paths.Users);
    }

    public MeshIdentity Mesh => _mesh;

    public BrokerPaths Paths => _paths;

    /// <summary>The account every mesh user belongs to (its public key).</summary>
    public string AccountPublicKey => _account.GetPublicKey();

    /// <summary>The CA certificate (PEM) devices check the broker's TLS certificate against.</summary>
    public string CaPem => File.ReadAllText(_paths.CaCertificate);

    /// <summary>
    /// Creates what is missing (the keys, the CA, the users file) and writes the broker's configuration for
    /// <paramref name="listen"/>. Idempotent: existing keys and users are kept. Returns whether <c>nats.conf</c> changed
    /// (a running broker must then be restarted: nats-server cannot reload a new listener).
    /// </summary>
    public static bool Initialize(BrokerPaths paths, MeshIdentity mesh, BrokerListen listen, TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(paths);
        ArgumentNullException.ThrowIfNull(mesh);
        ArgumentNullException.ThrowIfNull(listen);
        ArgumentNullException.ThrowIfNull(time);
        Directory.CreateDirectory(paths.StateDir, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        Directory.CreateDirectory(paths.ConfigDir, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute
            | UnixFileMode.GroupRead | UnixFileMode.GroupExecute);
        var now = time.GetUtcNow();
        CreateSeed(paths.OperatorSeed, PrefixByte.Operator);
        CreateSeed(paths.AccountSeed, PrefixByte.Account);
        CreateSeed(paths.SystemAccountSeed, PrefixByte.Account);
        AtomicFile.Write(paths.Users, Serialize(new MeshUsersFile([], new SortedDictionary<string, long>(StringComparer.Ordinal))), Private, overwrite: false);
        using var operatorKey = ReadSeed(paths.OperatorSeed, PrefixByte.Operator);
        using var system = ReadSeed(paths.SystemAccountSeed, PrefixByte.Account);
        // The operator's JWT stays as first written: nats-server cannot reload a changed operator.
        if (!File.Exists(paths.OperatorJwt))
        {
            AtomicFile.WriteAllText(paths.OperatorJwt, NatsJwt.Operator(operatorKey, "boxbot-" + mesh.BoxId, system.GetPublicKey(), now) + "\n", BrokerReadable);
        }
        if (!File.Exists(paths.CaKey) || !File.Exists(paths.CaCertificate))
        {
            using var ca = MeshCertificates.CreateAuthority($"boxbot {mesh.BoxId} mesh CA", now);
            var (certificate, key) = MeshCertificates.ToPem(ca);
            AtomicFile.WriteAllText(paths.CaKey, key, Private);
            AtomicFile.WriteAllText(paths.CaCertificate, certificate, BrokerReadable | UnixFileMode.OtherRead);
        }
        using (var authority = new BrokerAuthority(paths, mesh, time, () => { }))
        {
            authority.EnsureServerCertificate(listen);
            authority.WriteAccounts();
        }
        var config = BrokerConfig.Server(paths, listen, "boxbot-" + mesh.BoxId, system.GetPublicKey());
        var changed = !File.Exists(paths.Config) || File.ReadAllText(paths.Config) != config;
        if (changed)
        {
            AtomicFile.WriteAllText(paths.Config, config, BrokerReadable);
        }
        var url = (listen.Lan ? "tls" : "nats") + "://127.0.0.1:" + listen.Port.ToString(System.Globalization.CultureInfo.InvariantCulture);
        AtomicFile.WriteAllText(paths.ClientUrl, url + "\n", BrokerReadable | UnixFileMode.OtherRead);
        return changed;
    }

    /// <summary>Opens an initialized authority; <paramref name="reload"/> asks the running broker to reread <c>accounts.conf</c>.</summary>
    /// <exception cref="MeshException">The keys or users are missing or unreadable (the message says which, and how to fix it).</exception>
    public static BrokerAuthority Open(BrokerPaths paths, MeshIdentity mesh, TimeProvider time, Action reload)
    {
        ArgumentNullException.ThrowIfNull(paths);
        foreach (var file in new[] { paths.OperatorSeed, paths.AccountSeed, paths.SystemAccountSeed, paths.Users })
        {
            if (!File.Exists(file))
            {
                throw new MeshException(MeshErrorKind.NotConfigured,
                    $"The household broker is not set up: {file} is missing. Run `sudo boxbot mesh init` (the package does it at install; `boxbot dev up` does it for a development box).");
            }
        }
        return new BrokerAuthority(paths, mesh, time, reload);
    }

    /// <summary>The URL the box's own clients use (written by <see cref="Initialize"/>).</summary>
    public static Uri ReadClientUrl(BrokerPaths paths)
    {
        ArgumentNullException.ThrowIfNull(paths);
        var text = File.Exists(paths.ClientUrl) ? File.ReadAllText(paths.ClientUrl).Trim() : "";
        return Uri.TryCreate(text, UriKind.Absolute, out var url) ? url
            : throw new MeshException(MeshErrorKind.NotConfigured, $"The household broker's address is not written ({paths.ClientUrl}): run `sudo boxbot mesh init`.");
    }

    /// <summary>The users, devices first, each by name.</summary>
    public IReadOnlyList<MeshUser> Users
    {
        get
        {
            lock (_lock)
            {
                return [.. _users.Users.OrderBy(u => u.Kind != MeshUser.DeviceKind).ThenBy(u => u.Name, StringComparer.Ordinal)];
            }
        }
    }

    /// <summary>A new device user. Its seed is in the result only: it is not kept.</summary>
    /// <exception cref="ArgumentException">The id, type or a callee is not acceptable (the message says why).</exception>
    /// <exception cref="InvalidOperationException">A user of that name exists.</exception>
    public IssuedUser AddDevice(string id, string? deviceType, IReadOnlyList<string> mayCall, bool legacyInbox)
    {
        ArgumentNullException.ThrowIfNull(mayCall);
        CheckNewName(id, "device id");
        if (deviceType is not null && !MeshSubjects.IsValidToken(deviceType))
        {
            throw new ArgumentException($"device type '{deviceType}': use 1-64 of A-Z, a-z, 0-9, '_' or '-'");
        }
        foreach (var callee in mayCall)
        {
            if (!MeshSubjects.IsValidToken(callee))
            {
                throw new ArgumentException($"--may-call '{callee}': not a device id (1-64 of A-Z, a-z, 0-9, '_' or '-'; no wildcards)");
            }
            if (callee == _mesh.AdminDeviceId)
            {
                throw new ArgumentException($"--may-call {callee}: that is the box's admin device, which only admins may call (`boxbot mesh admin add NAME`)");
            }
            if (callee == id)
            {
                throw new ArgumentException($"--may-call {callee}: a device does not call itself through the broker");
            }
        }
        var callees = mayCall.Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToList();
        return Issue(id, MeshUser.DeviceKind, deviceType, callees, legacyInbox, MeshGrants.Device(_mesh, id, callees, legacyInbox));
    }

    /// <summary>A new admin user (a person's or a tool's). Its seed is in the result only.</summary>
    public IssuedUser AddAdmin(string name, bool legacyInbox)
    {
        CheckNewName(name, "admin name");
        return Issue(name, MeshUser.AdminKind, null, [], legacyInbox, MeshGrants.Admin(_mesh, name, legacyInbox));
    }

    /// <summary>The box's own user, minted afresh (the plugin host keeps its seed in memory only).</summary>
    public IssuedUser IssueBox()
    {
        using var key = KeyPair.CreatePair(PrefixByte.User);
        var jwt = NatsJwt.User(_account, key.GetPublicKey(), _mesh.BoxId, MeshGrants.Box(_mesh), _time.GetUtcNow());
        return new IssuedUser(new MeshUser(_mesh.BoxId, "box", key.GetPublicKey(), "boxbot", [], false, _time.GetUtcNow()), jwt, key.GetSeed());
    }

    /// <summary>
    /// Removes the user <paramref name="name"/> of <paramref name="kind"/>: its key is revoked in the account's JWT, the
    /// broker reloads and closes its connections. Returns the removed user, or null when there is none.
    /// </summary>
    public MeshUser? Remove(string name, string kind)
    {
        MeshUser? removed;
        lock (_lock)
        {
            removed = _users.Users.FirstOrDefault(u => u.Name == name && u.Kind == kind);
            if (removed is null)
            {
                return null;
            }
            var users = _users.Users.Where(u => u != removed).ToList();
            var revocations = new SortedDictionary<string, long>(_users.Revocations, StringComparer.Ordinal)
            {
                [removed.PublicKey] = _time.GetUtcNow().ToUnixTimeSeconds(),
            };
            Save(new MeshUsersFile(users, revocations));
            WriteAccounts();
        }
        _reload();
        return removed;
    }

    /// <summary>Issues the broker's server certificate again when it is missing, expires soon, or does not cover the names. Returns whether it did.</summary>
    public bool EnsureServerCertificate(BrokerListen listen)
    {
        ArgumentNullException.ThrowIfNull(listen);
        List<string> dns = ["localhost", .. listen.Names.Where(n => n.Length > 0)];
        List<IPAddress> addresses = [IPAddress.Loopback, IPAddress.IPv6Loopback];
        var wanted = dns.Concat(addresses.Select(a => a.ToString())).ToHashSet(StringComparer.OrdinalIgnoreCase);
        var now = _time.GetUtcNow();
        if (File.Exists(_paths.ServerCertificate) && File.Exists(_paths.ServerKey))
        {
            using var current = X509Certificate2.CreateFromPem(File.ReadAllText(_paths.ServerCertificate));
            if (current.NotAfter > (now + MeshCertificates.RenewBefore).UtcDateTime && MeshCertificates.Names(current).SetEquals(wanted))
            {
                return false;
            }
        }
        using var ca = X509Certificate2.CreateFromPemFile(_paths.CaCertificate, _paths.CaKey);
        using var server = MeshCertificates.IssueServer(ca, dns, addresses, now);
        var (certificate, key) = MeshCertificates.ToPem(server);
        AtomicFile.WriteAllText(_paths.ServerKey, key, BrokerReadable);
        AtomicFile.WriteAllText(_paths.ServerCertificate, certificate, BrokerReadable | UnixFileMode.OtherRead);
        return true;
    }

    public void Dispose()
    {
        _operator.Dispose();
        _account.Dispose();
        _system.Dispose();
    }

    private IssuedUser Issue(string name, string kind, string? deviceType, IReadOnlyList<string> mayCall, bool legacyInbox, UserPermissions grants)
    {
        using var key = KeyPair.CreatePair(PrefixByte.User);
        var now = _time.GetUtcNow();
        var user = new MeshUser(name, kind, key.GetPublicKey(), deviceType, mayCall, legacyInbox, now);
        var jwt = NatsJwt.User(_account, user.PublicKey, name, grants, now);
        lock (_lock)
        {
            if (_users.Users.Any(u => u.Name == name))
            {
                throw new InvalidOperationException($"a mesh user named '{name}' exists already; remove it first (`boxbot mesh {kind} remove {name}`)");
            }
            Save(_users with { Users = [.. _users.Users, user] });
        }
        return new IssuedUser(user, jwt, key.GetSeed());
    }

    private void CheckNewName(string name, string what)
    {
        if (!MeshSubjects.IsValidToken(name))
        {
            throw new ArgumentException($"{what} '{name}': use 1-64 of A-Z, a-z, 0-9, '_' or '-' (no dots, wildcards or spaces)");
        }
        if (name == _mesh.BoxId || name == _mesh.AdminDeviceId)
        {
            throw new ArgumentException($"{what} '{name}': that is the box's own device id");
        }
    }

    private void Save(MeshUsersFile users)
    {
        AtomicFile.WriteAllText(_paths.Users, Serialize(users), Private);
        _users = users;
    }

    // Both accounts' JWTs, the mesh account's with every revocation so far.
    private void WriteAccounts()
    {
        var now = _time.GetUtcNow();
        var account = NatsJwt.Account(_operator, _account.GetPublicKey(), AccountName, _users.Revocations, now);
        var system = NatsJwt.Account(_operator, _system.GetPublicKey(), SystemAccountName, new Dictionary<string, long>(), now);
        AtomicFile.WriteAllText(_paths.Accounts, BrokerConfig.Accounts([(_system.GetPublicKey(), system), (_account.GetPublicKey(), account)]), BrokerReadable);
    }

    private static void CreateSeed(string path, PrefixByte kind)
    {
        if (File.Exists(path))
        {
            return;
        }
        using var key = KeyPair.CreatePair(kind);
        AtomicFile.Write(path, key.GetSeed() + "\n", Private, overwrite: false);
    }

    private static KeyPair ReadSeed(string path, PrefixByte kind)
    {
        try
        {
            var pair = KeyPair.FromSeed(File.ReadAllText(path).Trim());
            if (pair.Prefix != kind)
            {
                pair.Dispose();
                throw new MeshException(MeshErrorKind.NotConfigured, $"{path} holds the seed of a {pair.Prefix}, not of an {kind}");
            }
            return pair;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or NKeysException or ArgumentException or InvalidOperationException)
        {
            throw new MeshException(MeshErrorKind.NotConfigured, $"{path}: cannot read the NKey seed ({e.Message})", e);
        }
    }

    private static MeshUsersFile ReadUsers(string path)
    {
        try
        {
            return JsonSerializer.Deserialize(File.ReadAllText(path), MeshStateJson.Default.MeshUsersFile)
                ?? throw new JsonException("the file holds null");
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or JsonException)
        {
            throw new MeshException(MeshErrorKind.NotConfigured, $"{path}: cannot read the mesh's users ({e.Message})", e);
        }
    }

    private static string Serialize(MeshUsersFile users) => JsonSerializer.Serialize(users, MeshStateJson.Default.MeshUsersFile) + "\n";
}

/// <summary>A user just minted: its JWT and seed, to be written into its credential files once.</summary>
public sealed record IssuedUser(MeshUser User, string Jwt, string Seed)
{
    public override string ToString() => $"IssuedUser {{ {User.Kind} {User.Name} }}";
}
