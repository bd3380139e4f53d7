using System.Text;
using static BoxBot.Sandbox.Internal.SandboxNative;

namespace BoxBot.Sandbox.Internal;

/// <summary>
/// Network "internet", in the launcher: the job's own network namespace starts with loopback down and nothing else.
/// Loopback comes up, and a TCP socket listens on 127.0.0.1:port there; the runner gets it (JobHandshake) and relays
/// each connection a script makes to it to the egress proxy, which is the job's only way out.
/// </summary>
internal static unsafe class JobLoopback
{
    public static int Listen(int port)
    {
        if (port is < 1 or > 65535)
        {
            throw new LaunchFailure($"proxy_port {port} is outside 1..65535");
        }
        var fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        LaunchFailure.Check(fd, "socket AF_INET");
        var request = new IfReqFlags();
        var name = Encoding.ASCII.GetBytes("lo");
        for (var i = 0; i < name.Length; i++)
        {
            request.Name[i] = name[i];
        }
        LaunchFailure.Check(ioctl(fd, SIOCGIFFLAGS, &request), "SIOCGIFFLAGS lo");
        request.Flags |= IFF_UP;
        LaunchFailure.Check(ioctl(fd, SIOCSIFFLAGS, &request), "SIOCSIFFLAGS lo up");
        var address = new SockaddrIn
        {
            Family = AF_INET,
            PortBigEndian = (ushort)System.Net.IPAddress.HostToNetworkOrder((short)port),
            AddressBigEndian = (uint)System.Net.IPAddress.HostToNetworkOrder(0x7F000001),
        };
        LaunchFailure.Check(bind(fd, &address, (uint)sizeof(SockaddrIn)), $"bind 127.0.0.1:{port}");
        LaunchFailure.Check(listen(fd, 64), "listen");
        return fd;
    }
}
