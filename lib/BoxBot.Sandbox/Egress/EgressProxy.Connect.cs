using System.Net;
using System.Net.Sockets;
using BoxBot.Sandbox.Egress.Internal;

namespace BoxBot.Sandbox.Egress;

public sealed partial class EgressProxy
{
    /// <summary>
    /// Resolves the request's host (an IP literal is taken as is), keeps the addresses the policy allows and
    /// connects to the first that answers, all within <see cref="EgressOptions.ConnectTimeout"/>. The socket is
    /// connected to the very address that was checked: nothing is resolved twice.
    /// </summary>
    /// <exception cref="ProxyRefusal">403 nothing allowed, 502 resolution or connection failed, 504 too slow.</exception>
    private async Task<(Socket Socket, IPAddress Address)> ConnectAsync(ProxyRequest request, CancellationToken cancellationToken)
    {
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(_options.ConnectTimeout);
        var seconds = _options.ConnectTimeout.TotalSeconds;
        var host = ProxyResponse.Printable(request.Host, 100);

        IPAddress[] resolved;
        if (request.Literal is { } literal)
        {
            resolved = [literal];
        }
        else
        {
            try
            {
                resolved = await _options.Resolve(request.Host, deadline.Token);
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                throw new ProxyRefusal(504, $"resolving {host} took longer than {seconds:0.###} s");
            }
            catch (SocketException e)
            {
                throw new ProxyRefusal(502, $"cannot resolve {host}: {e.Message}");
            }
        }

        // ::ffff:a.b.c.d is where a dual-stack socket would really connect: decide and dial it as a.b.c.d.
        var candidates = resolved.Select(a => a.IsIPv4MappedToIPv6 ? a.MapToIPv4() : a).Distinct().ToArray();
        if (candidates.Length == 0)
        {
            throw new ProxyRefusal(502, $"{host} has no addresses");
        }
        var allowed = candidates.Where(_options.IsAllowed).ToArray();
        var refused = candidates.Except(allowed).ToArray();
        if (allowed.Length == 0)
        {
            throw new ProxyRefusal(403, request.Literal is not null
                ? $"{host} is not a public address"
                : $"{host} resolves only to non-public addresses ({string.Join(", ", refused.Select(a => a.ToString()))})");
        }
        if (refused.Length > 0)
        {
            EgressLog.Skipped(_log, host, string.Join(", ", refused.Select(a => a.ToString())));
        }

        var failures = new List<string>(allowed.Length);
        foreach (var address in allowed)
        {
            var socket = new Socket(address.AddressFamily, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
            try
            {
                await socket.ConnectAsync(new IPEndPoint(address, request.Port), deadline.Token);
                return (socket, address);
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                socket.Dispose();
                throw new ProxyRefusal(504, $"connecting to {host} port {request.Port} took longer than {seconds:0.###} s");
            }
            catch (SocketException e)
            {
                socket.Dispose();
                failures.Add($"{address}: {e.Message}");
            }
            catch
            {
                socket.Dispose();
                throw;
            }
        }
        throw new ProxyRefusal(502, $"cannot connect to {host} port {request.Port} ({string.Join("; ", failures)})");
    }
}
