using System.Net;
using System.Net.Sockets;

namespace BoxBot.Sandbox.Integration.Tests;

/// <summary>Scripts that look for things outside their job: the host's files, other jobs, the runner, the network, root.</summary>
[Category("root")]
public sealed class IsolationTests(string start) : WarmAndCold(start)
{
    [Test]
    public async Task The_hosts_files_and_daemons_state_are_not_visible_at_all()
    {
        var canary = Path.Combine(SandboxFixture.TempRoot, "canary.txt");
        await File.WriteAllTextAsync(canary, "host secret");
        string[] hostOnly = ["/root", "/etc/passwd", "/etc/hostname", SandboxFixture.TempRoot, canary];
        Assert.That(hostOnly.Where(p => !Path.Exists(p)), Is.Empty, "these exist on the host");
        string[] probes = [.. hostOnly, "/etc/boxbot", "/var/lib/boxbot", "/run/boxbot", "/home", "/tmp", "/var", "/sys", "/dev/shm"];
        var script = "import os\nfor p in " + PythonList(probes) + ":\n    print(p, os.path.exists(p))\nprint('etc', sorted(os.listdir('/etc')))\nprint('root', sorted(os.listdir('/')))";
        var r = await Jobs.RunAsync(script);
        Assert.That(r.Status, Is.EqualTo("ok"), Jobs.Describe(r));
        foreach (var p in probes)
        {
            Assert.That(r.Stdout, Does.Contain(p + " False\n"), p + " is visible: " + r.Stdout);
        }
        Assert.That(r.Stdout, Does.Contain("etc ['ld.so.cache']"));
        Assert.That(r.Stdout, Does.Contain("root ['bin', 'dev', 'etc', 'lib', 'lib64', 'opt', 'proc', 'usr', 'workspace']"));
    }

    [Test]
    public async Task The_root_and_system_folders_are_read_only_and_the_workspace_is_not_executable()
    {
        const string script = """
            import os
            for p in ['/x', '/usr/x', '/usr/bin/python3', '/etc/ld.so.cache', '/dev/x']:
                try:
                    open(p, 'a').close(); print(p, 'WRITABLE')
                except OSError as e:
                    print(p, e.strerror)
            with open('/workspace/ok', 'w') as f:
                f.write('ok')
            print('mounts', open('/proc/self/mountinfo').read())
            """;
        var r = await Jobs.RunAsync(script);
        Assert.That(r.Status, Is.EqualTo("ok"), Jobs.Describe(r));
        Assert.That(r.Stdout, Does.Not.Contain("WRITABLE"), r.Stdout);
        Assert.That(r.Stdout, Does.Match(@"\d+ \d+ \S+ / /workspace rw,nosuid,nodev,noexec"), r.Stdout);
    }

    [Test]
    public async Task The_job_runs_unprivileged_with_no_new_privileges_and_seccomp_on()
    {
        const string script = """
            import os
            print('ids', os.getuid(), os.geteuid(), os.getgid(), os.getgroups())
            status = dict(l.split(':', 1) for l in open('/proc/self/status').read().splitlines())
            print('nnp', status['NoNewPrivs'].strip(), 'seccomp', status['Seccomp'].strip(), 'capeff', status['CapEff'].strip())
            try:
                os.setuid(0); print('setuid WORKED')
            except PermissionError:
                print('setuid refused')
            print('fds', sorted(os.listdir('/proc/self/fd')))
            """;
        var r = await Jobs.RunAsync(script);
        Assert.That(r.Status, Is.EqualTo("ok"), Jobs.Describe(r));
        Assert.That(r.Stdout, Does.Not.Contain("ids 0 "));
        Assert.That(r.Stdout, Does.Contain("nnp 1 seccomp 2 capeff 0000000000000000"));
        Assert.That(r.Stdout, Does.Contain("setuid refused"));
        Assert.That(r.Stdout, Does.Contain("fds ['0', '1', '2', '3']"), "only stdio and listdir's own descriptor: " + r.Stdout);
    }

    [Test]
    public async Task A_job_cannot_see_or_read_another_running_jobs_environment_or_memory()
    {
        const string secret = "job-a-secret-7f3e1d";
        var a = Jobs.RunAsync("import time\nprint('a up', flush=True)\ntime.sleep(4)\nprint('a done')",
            secrets: new Dictionary<string, string> { ["TOKEN"] = secret });
        await Task.Delay(TimeSpan.FromSeconds(1.5));
        const string script = """
            import os
            pids = sorted(int(p) for p in os.listdir('/proc') if p.isdigit())
            print('pids', pids, 'me', os.getpid())
            found = []
            for pid in list(range(1, 4096)):
                for what in ('environ', 'mem', 'cmdline'):
                    try:
                        with open(f'/proc/{pid}/{what}', 'rb') as f:
                            data = f.read(65536) if what != 'mem' else b''
                        if pid != os.getpid():
                            found.append((pid, what))
                        if b'job-a-secret' in data:
                            print('LEAK', pid, what)
                    except OSError:
                        pass
            print('others', found)
            """;
        var b = await Jobs.RunAsync(script);
        Assert.That(a.IsCompleted, Is.False, "job A was still running while B looked for it");
        var ra = await a;
        Assert.That(ra.Status, Is.EqualTo("ok"), "job A ran alongside: " + Jobs.Describe(ra));
        Assert.That(b.Status, Is.EqualTo("ok"), Jobs.Describe(b));
        Assert.That(b.Stdout, Does.Contain("pids [1] me 1"));
        Assert.That(b.Stdout, Does.Contain("others []"));
        Assert.That(b.Stdout, Does.Not.Contain("LEAK").And.Not.Contain(secret));
    }

    [Test]
    public async Task Signalling_every_pid_including_the_runners_reaches_nothing()
    {
        var script = $$"""
            import os, signal
            hit = []
            for pid in [{{Environment.ProcessId}}] + list(range(2, 65536)):
                try:
                    os.kill(pid, signal.SIGKILL); hit.append(pid)
                except (ProcessLookupError, PermissionError):
                    pass
            print('hit', hit)
            """;
        var r = await Jobs.RunAsync(script);
        Assert.That(r.Status, Is.EqualTo("ok"), Jobs.Describe(r));
        Assert.That(r.Stdout, Does.Contain("hit []"));
    }

    [Test]
    public async Task With_network_none_a_loopback_listener_on_the_host_cannot_be_reached()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        var script = $"""
            import socket
            try:
                socket.create_connection(('127.0.0.1', {port}), timeout=3); print('CONNECTED')
            except OSError as e:
                print('failed', e)
            print('interfaces', socket.if_nameindex())
            """;
        var r = await Jobs.RunAsync(script);
        Assert.That(r.Status, Is.EqualTo("ok"), Jobs.Describe(r));
        Assert.That(r.Stdout, Does.Contain("failed").And.Not.Contain("CONNECTED"));
        Assert.That(listener.Pending(), Is.False);
    }

    [Test]
    public async Task With_network_none_an_abstract_unix_socket_on_the_host_cannot_be_reached()
    {
        // Two controls: the job's own network namespace (abstract names are per namespace), and seccomp refusing new Unix sockets.
        var name = "boxbot-sandbox-test-" + Environment.ProcessId;
        using var listener = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        listener.Bind(new UnixDomainSocketEndPoint("\0" + name));
        listener.Listen();
        var script = $"""
            import socket
            try:
                s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                s.connect('\0{name}'); print('CONNECTED')
            except OSError as e:
                print('failed', e)
            """;
        var r = await Jobs.RunAsync(script);
        Assert.That(r.Status, Is.EqualTo("ok"), Jobs.Describe(r));
        Assert.That(r.Stdout, Does.Contain("failed").And.Not.Contain("CONNECTED"));
        Assert.That(listener.Poll(0, SelectMode.SelectRead), Is.False, "nothing is waiting to be accepted");
    }

    [Test]
    public async Task The_exec_descriptor_cannot_be_recreated_or_used()
    {
        const string script = """
            import ctypes, errno, fcntl, os
            def err(f):
                try:
                    f(); return 'WORKED'
                except OSError as e:
                    return errno.errorcode[e.errno]
            print('dup2', err(lambda: os.dup2(0, 100)))
            print('dupfd', err(lambda: fcntl.fcntl(0, fcntl.F_DUPFD, 100)))
            libc = ctypes.CDLL(None, use_errno=True)
            argv = (ctypes.c_char_p * 2)(b'python3', None)
            rc = libc.syscall(322 if os.uname().machine == 'x86_64' else 281, 100, b'', argv, None, 0x1000)
            print('execveat', rc, errno.errorcode.get(ctypes.get_errno()))
            """;
        var r = await Jobs.RunAsync(script);
        Assert.That(r.Status, Is.EqualTo("ok"), Jobs.Describe(r));
        Assert.That(r.Stdout, Does.Contain("dup2 EBADF"));
        Assert.That(r.Stdout, Does.Contain("dupfd EINVAL"));
        Assert.That(r.Stdout, Does.Contain("execveat -1 EBADF"));
    }

    private static string PythonList(IEnumerable<string> items) => "[" + string.Join(", ", items.Select(i => "'" + i + "'")) + "]";
}
