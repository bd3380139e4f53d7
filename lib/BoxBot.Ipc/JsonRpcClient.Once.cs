using System.Buffers.Binary;
using System.Net.Sockets;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using BoxBot.Contracts;
using BoxBot.Ipc.Internal;

namespace BoxBot.Ipc;

public sealed partial class JsonRpcClient
{
    /// <summary>
    /// One call on a connection of its own, done with blocking socket calls on the caller's thread: no reader task, no
    /// socket engine thread, no thread-pool hop. For a short-lived process (the <c>boxbot</c> command) making one call, where
    /// those cost more than the call itself (measured in bench/: the command's hop). Errors are those of
    /// <see cref="CallAsync"/>: <see cref="IpcConnectException"/>, <see cref="RpcException"/>, <see cref="IpcTimeoutException"/>,
    /// <see cref="IpcException"/>; <paramref name="cancellationToken"/> closes the connection (the server then cancels the
    /// call) and throws <see cref="OperationCanceledException"/>.
    /// </summary>
    public static TResult CallOnce<TParams, TResult>(string socketPath, string method, TParams parameters,
        JsonTypeInfo<TParams> paramsType, JsonTypeInfo<TResult> resultType, TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(socketPath);
        ArgumentException.ThrowIfNullOrWhiteSpace(method);
        ArgumentNullException.ThrowIfNull(paramsType);
        ArgumentNullException.ThrowIfNull(resultType);
        cancellationToken.ThrowIfCancellationRequested();
        var frame = BuildRequest(socketPath, 1, method, parameters, paramsType);
        UnixDomainSocketEndPoint endpoint;
        try
        {
            endpoint = new UnixDomainSocketEndPoint(socketPath);
        }
        catch (ArgumentException ex)
        {
            throw new IpcConnectException($"Cannot connect to {socketPath}: the path is too long for a Unix socket.", IpcConnectFailure.Other, ex) { SocketPath = socketPath };
        }
        using var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        try
        {
            socket.Connect(endpoint);
        }
        catch (SocketException ex)
        {
            throw ConnectFailure(socketPath, ex);
        }
        using var closeOnCancel = cancellationToken.Register(static s => ((Socket)s!).Dispose(), socket);
        if (timeout <= TimeSpan.Zero && timeout != Timeout.InfiniteTimeSpan)
        {
            throw new ArgumentOutOfRangeException(nameof(timeout), timeout, "The timeout must be positive or infinite.");
        }
        var deadline = timeout == Timeout.InfiniteTimeSpan ? DateTime.MaxValue : DateTime.UtcNow + timeout;
        try
        {
            for (var sent = 0; sent < frame.Length;)
            {
                sent += socket.Send(frame, sent, frame.Length - sent, SocketFlags.None);
            }
            var header = new byte[Framing.HeaderSize];
            ReceiveExactly(socket, header, deadline, method, socketPath, timeout);
            var length = BinaryPrimitives.ReadUInt32BigEndian(header);
            if (length > Framing.MaxPayload)
            {
                throw new IpcException($"Lost the connection to {socketPath}: the server sent a {length}-byte frame, over the 1 MiB limit.") { SocketPath = socketPath };
            }
            var payload = new byte[length];
            ReceiveExactly(socket, payload, deadline, method, socketPath, timeout);
            using var document = JsonDocument.Parse(payload);
            var root = document.RootElement;
            if (root.ValueKind == JsonValueKind.Object && root.TryGetProperty("error"u8, out var error))
            {
                var code = error.ValueKind == JsonValueKind.Object && error.TryGetProperty("code"u8, out var c) && c.TryGetInt32(out var n) ? n : RpcErrorCodes.InternalError;
                var message = error.ValueKind == JsonValueKind.Object && error.TryGetProperty("message"u8, out var m) && m.ValueKind == JsonValueKind.String
                    ? m.GetString()! : RpcErrorCodes.Describe(code);
                throw new RpcException(code, message);
            }
            if (root.ValueKind != JsonValueKind.Object || !root.TryGetProperty("result"u8, out var result))
            {
                throw new IpcException($"Lost the connection to {socketPath}: the server sent a reply with neither result nor error.") { SocketPath = socketPath };
            }
            try
            {
                return result.Deserialize(resultType)!;
            }
            catch (JsonException ex)
            {
                throw new IpcException($"The reply to {method} from {socketPath} does not match the expected result type: {ex.Message}", ex) { SocketPath = socketPath };
            }
        }
        catch (Exception ex) when (cancellationToken.IsCancellationRequested && ex is SocketException or ObjectDisposedException)
        {
            throw new OperationCanceledException(cancellationToken);
        }
        catch (SocketException ex)
        {
            throw new IpcException($"Lost the connection to {socketPath}: {ex.Message}.", ex) { SocketPath = socketPath };
        }
        catch (JsonException ex)
        {
            throw new IpcException($"Lost the connection to {socketPath}: the server sent a frame that is not JSON ({ex.Message}).", ex) { SocketPath = socketPath };
        }
    }

    private static void ReceiveExactly(Socket socket, byte[] buffer, DateTime deadline, string method, string socketPath, TimeSpan timeout)
    {
        for (var received = 0; received < buffer.Length;)
        {
            if (deadline != DateTime.MaxValue)
            {
                var left = deadline - DateTime.UtcNow;
                if (left <= TimeSpan.Zero)
                {
                    throw new IpcTimeoutException($"{method} on {socketPath} did not reply within {timeout.TotalSeconds:0.###} s.", method, timeout) { SocketPath = socketPath };
                }
                socket.ReceiveTimeout = (int)Math.Min(int.MaxValue, Math.Max(1, Math.Ceiling(left.TotalMilliseconds)));
            }
            int n;
            try
            {
                n = socket.Receive(buffer, received, buffer.Length - received, SocketFlags.None);
            }
            catch (SocketException ex) when (ex.SocketErrorCode is SocketError.TimedOut or SocketError.WouldBlock)
            {
                continue; // the deadline check above decides
            }
            if (n == 0)
            {
                throw new IpcException($"Lost the connection to {socketPath}: the server closed the connection.") { SocketPath = socketPath };
            }
            received += n;
        }
    }
}
