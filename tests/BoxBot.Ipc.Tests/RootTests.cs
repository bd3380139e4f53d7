using System.Diagnostics;
using System.Text.Json;
using BoxBot.Contracts;

namespace BoxBot.Ipc.Tests;

/// <summary>
/// Attacks from a real second user: a throwaway system account runs a raw Python client via
/// setpriv, so the kernel (not the test) decides what SO_PEERCRED, SO_PEERGROUPS and the file mode say.
/// </summary>
[Category("root")]
public sealed class RootTests : ServerTestBase
{
    private const string Intruder = "bbtest-ipc-intruder";
    private const string Callers = "bbtest-ipc-callers";

    private const string ClientScript = """
        import json, socket, struct, sys
        path, method = sys.argv[1], sys.argv[2]
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            s.connect(path)
        except OSError as e:
            print("CONNECT_ERROR", e.errno)
            sys.exit(0)
        body = json.dumps({"jsonrpc": "2.0", "id": 1, "method": method, "params": {}}).encode()
        s.sendall(struct.pack(">I", len(body)) + body)
        def recv(n):
            data = b""
            while len(data) < n:
                chunk = s.recv(n - len(data))
                if not chunk:
                    sys.exit("connection closed")
                data += chunk
            return data
        print(recv(struct.unpack(">I", recv(4))[0]).decode())
        """;

    // Not "python3" from PATH: under root that may be a shim in /root (pyenv) the intruder cannot execute.
    private static readonly string SystemPython =
        new[] { "/usr/bin/python3", "/usr/local/bin/python3" }.FirstOrDefault(File.Exists) ?? "python3";

    private uint _intruderUid;
    private uint _intruderGid;
    private uint _callersGid;

    [SetUp]
    public void EnsureAccounts()
    {
        if (!Environment.IsPrivilegedProcess)
        {
            Assert.Ignore("needs root (creates a system user and switches to it with setpriv)");
        }
        if (Run("getent", "group", Callers).ExitCode != 0)
        {
            Run("groupadd", "--system", Callers);
        }
        if (Run("id", "-u", Intruder).ExitCode != 0)
        {
            Run("useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", Intruder);
        }
        _intruderUid = uint.Parse(Run("id", "-u", Intruder).Output);
        _intruderGid = uint.Parse(Run("id", "-g", Intruder).Output);
        _callersGid = uint.Parse(Run("getent", "group", Callers).Output.Split(':')[2]);
        // The client must be able to reach the socket's directory; the socket's own mode is what each test varies.
        File.SetUnixFileMode(TempDir.FullName, (UnixFileMode)0b111_101_101);
    }

    private void MapWhoAmI(JsonRpcServer server, string method, CallerPolicy policy) =>
        server.Map(method, policy, ContractsJsonContext.Default.EmptyParams, TestJson.Default.PeerResult,
            (_, ctx, _) => ValueTask.FromResult(new PeerResult(ctx.Peer.Pid, ctx.Peer.Uid, ctx.Peer.Gid, [.. ctx.Peer.Groups])));

    [Test]
    public void Intruder_calling_a_root_only_method_is_refused_and_the_refusal_is_logged()
    {
        StartServer(o => o with { SocketMode = (UnixFileMode)0b110_110_110 }, s => MapWhoAmI(s, "admin.only", CallerPolicy.Of(Principal.Root)));

        var reply = CallAsIntruder("--clear-groups", "admin.only");

        Assert.That(reply.ErrorCode(), Is.EqualTo(RpcErrorCodes.Unauthorized));
        Assert.That(reply.ErrorMessage(), Is.EqualTo($"caller uid {_intruderUid} may not call admin.only"));
        var refusal = Logger.WithEvent(IpcLogEvents.CallRefused).Single();
        Assert.That(refusal.Message, Does.Contain($"uid {_intruderUid} gid {_intruderGid}").And.Contain("admin.only"));
    }

    [Test]
    public void Supplementary_group_is_seen_through_SO_PEERGROUPS_and_allowed_by_a_group_policy()
    {
        StartServer(o => o with { SocketMode = (UnixFileMode)0b110_110_110 }, s => MapWhoAmI(s, "callers.only", CallerPolicy.Of(Principal.Group(Callers))));

        var allowed = CallAsIntruder($"--groups={_callersGid}", "callers.only");
        var refused = CallAsIntruder("--clear-groups", "callers.only");

        var peer = allowed.Result();
        Assert.That(peer.GetProperty("uid").GetUInt32(), Is.EqualTo(_intruderUid));
        Assert.That(peer.GetProperty("gid").GetUInt32(), Is.EqualTo(_intruderGid), "the callers group is only supplementary");
        Assert.That(peer.GetProperty("groups").EnumerateArray().Select(g => g.GetUInt32()), Does.Contain(_callersGid));
        Assert.That(refused.ErrorCode(), Is.EqualTo(RpcErrorCodes.Unauthorized));
    }

    [Test]
    public void Intruder_is_allowed_by_a_user_policy_naming_it()
    {
        StartServer(o => o with { SocketMode = (UnixFileMode)0b110_110_110 }, s => MapWhoAmI(s, "intruder.ok", CallerPolicy.Of(Principal.User(Intruder))));

        var reply = CallAsIntruder("--clear-groups", "intruder.ok");

        Assert.That(reply.Result().GetProperty("uid").GetUInt32(), Is.EqualTo(_intruderUid));
    }

    [Test]
    public void Socket_group_with_mode_0660_keeps_out_users_outside_the_group_at_connect()
    {
        StartServer(o => o with { SocketGroup = Callers }, s => MapWhoAmI(s, "callers.only", CallerPolicy.Of(Principal.Group(Callers))));

        var outsider = RunAsIntruder("--clear-groups", "callers.only");
        var member = CallAsIntruder($"--groups={_callersGid}", "callers.only");

        Assert.That(Run("stat", "-c", "%g %a", SocketPath).Output, Is.EqualTo($"{_callersGid} 660"));
        Assert.That(outsider, Is.EqualTo("CONNECT_ERROR 13"), "EACCES from the file mode, before any policy runs");
        Assert.That(member.Result().GetProperty("uid").GetUInt32(), Is.EqualTo(_intruderUid));
    }

    private JsonElement? CallAsIntruder(string groupsArgument, string method)
    {
        var output = RunAsIntruder(groupsArgument, method);
        Assert.That(output, Does.StartWith("{"), "the client got no reply: " + output);
        using var document = JsonDocument.Parse(output);
        return document.RootElement.Clone();
    }

    private string RunAsIntruder(string groupsArgument, string method)
    {
        var result = Run("setpriv", $"--reuid={_intruderUid}", $"--regid={_intruderGid}", groupsArgument,
            SystemPython, "-c", ClientScript, SocketPath, method);
        Assert.That(result.ExitCode, Is.Zero, result.Output + result.Error);
        return result.Output;
    }

    private static (int ExitCode, string Output, string Error) Run(string file, params string[] arguments)
    {
        var info = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = "/" };
        foreach (var a in arguments)
        {
            info.ArgumentList.Add(a);
        }
        using var process = Process.Start(info)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEnd();
        process.WaitForExit();
        return (process.ExitCode, output.Result.Trim(), error);
    }
}
