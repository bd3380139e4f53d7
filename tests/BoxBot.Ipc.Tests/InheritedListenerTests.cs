using System.Net.Sockets;
using System.Runtime.InteropServices;

namespace BoxBot.Ipc.Tests;

/// <summary>A listening socket made by someone else (systemd's .socket unit) and handed to the server.</summary>
public sealed partial class InheritedListenerTests : ServerTestBase
{
    [LibraryImport("libc", SetLastError = true)]
    private static partial int dup(int fd);

    /// <summary>What systemd hands over: a descriptor of a socket this process did not bind (.NET removes the file of a socket it bound itself when that is disposed).</summary>
    private static Socket Handed(Socket made) => new(new SafeSocketHandle(dup((int)made.Handle), ownsHandle: true));

    private Socket Listen(string path, bool listen = true)
    {
        var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        socket.Bind(new UnixDomainSocketEndPoint(path));
        if (listen)
        {
            socket.Listen(8);
        }
        return socket;
    }

    [Test]
    public async Task An_inherited_listener_is_served_as_it_is_and_its_file_survives_the_stop()
    {
        using var made = Listen(SocketPath);
        var listener = Handed(made);
        File.SetUnixFileMode(SocketPath, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        StartServer(o => o with { InheritedListener = listener, SocketMode = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.OtherWrite });

        var client = await ConnectAsync();
        Assert.That(await AddAsync(client, 2, 3), Is.EqualTo(new SumResult(5)));
        // The socket unit's mode stands: the server neither chmods nor chowns what it did not make.
        Assert.That(File.GetUnixFileMode(SocketPath), Is.EqualTo(UnixFileMode.UserRead | UnixFileMode.UserWrite));

        await Server.StopAcceptingAsync();

        // systemd owns the file and keeps listening on it for the next start.
        Assert.That(File.Exists(SocketPath), Is.True);
    }

    [Test]
    public void A_listener_on_another_path_is_refused_naming_both()
    {
        using var listener = Listen(Path.Combine(TempDir.FullName, "other.sock"));
        CreateServer(o => o with { InheritedListener = listener });

        var ex = Assert.Throws<IpcException>(Server.Start);

        Assert.That(ex!.Message, Does.Contain(SocketPath).And.Contain("other.sock"));
    }

    [Test]
    public void A_bound_socket_that_does_not_listen_is_refused()
    {
        using var listener = Listen(SocketPath, listen: false);
        CreateServer(o => o with { InheritedListener = listener });

        var ex = Assert.Throws<IpcException>(Server.Start);

        Assert.That(ex!.Message, Does.Contain("not a listening Unix stream socket"));
    }
}
