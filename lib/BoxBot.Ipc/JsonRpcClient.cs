using System.Buffers;
using System.Collections.Concurrent;
using System.Net.Sockets;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using BoxBot.Ipc.Internal;

namespace BoxBot.Ipc;

/// <summary>
/// A JSON-RPC 2.0 client on one Unix socket connection. Calls may run concurrently; replies are
/// matched by id. On timeout or cancellation the server is told to cancel the handler.
/// </summary>
public sealed partial class JsonRpcClient : IAsyncDisposable
{
    private readonly Socket _socket;
    private readonly NetworkStream _stream;
    private readonly ConcurrentDictionary<long, TaskCompletionSource<JsonElement>> _pending = new();
    private readonly SemaphoreSlim _writeLock = new(1, 1);
    private readonly CancellationTokenSource _closing = new();
    private readonly Task _readLoop;
    private long _nextId;
    private volatile Exception? _terminal;
    private int _disposed;

    private JsonRpcClient(string socketPath, Socket socket)
    {
        SocketPath = socketPath;
        _socket = socket;
        _stream = new NetworkStream(socket, ownsSocket: true);
        _readLoop = ReadLoopAsync(_closing.Token);
    }

    public string SocketPath { get; }

    /// <summary>Used by calls that pass no timeout. <see cref="Timeout.InfiniteTimeSpan"/> waits forever.</summary>
    public TimeSpan DefaultTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>False once the connection was lost or closed.</summary>
    public bool IsConnected => _terminal is null;

    public static async Task<JsonRpcClient> ConnectAsync(string socketPath, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(socketPath);
        UnixDomainSocketEndPoint endpoint;
        try
        {
            endpoint = new UnixDomainSocketEndPoint(socketPath);
        }
        catch (ArgumentException ex)
        {
            throw new IpcConnectException($"Cannot connect to {socketPath}: the path is too long for a Unix socket.", IpcConnectFailure.Other, ex) { SocketPath = socketPath };
        }
        var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        try
        {
            await socket.ConnectAsync(endpoint, cancellationToken).ConfigureAwait(false);
        }
        catch (SocketException ex)
        {
            socket.Dispose();
            throw ConnectFailure(socketPath, ex);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
        return new JsonRpcClient(socketPath, socket);
    }

    private static IpcConnectException ConnectFailure(string path, SocketException ex)
    {
        var (reason, text) = ex.SocketErrorCode switch
        {
            SocketError.AccessDenied => (IpcConnectFailure.PermissionDenied,
                $"Cannot connect to {path}: permission denied. The socket's mode or group does not admit this user; run as a member of the socket's group or as root."),
            SocketError.ConnectionRefused => (IpcConnectFailure.ConnectionRefused,
                $"Cannot connect to {path}: connection refused. The socket exists but nothing is listening; is the daemon running?"),
            SocketError.AddressNotAvailable or SocketError.AddressFamilyNotSupported when !File.Exists(path) => (IpcConnectFailure.SocketMissing,
                $"Cannot connect to {path}: the socket does not exist. Is the daemon running, and is this the right path?"),
            _ when !Path.Exists(path) => (IpcConnectFailure.SocketMissing,
                $"Cannot connect to {path}: the socket does not exist. Is the daemon running, and is this the right path?"),
            _ => (IpcConnectFailure.Other, $"Cannot connect to {path}: {ex.Message}"),
        };
        return new IpcConnectException(text, reason, ex) { SocketPath = path };
    }

    /// <summary>
    /// Calls <paramref name="method"/>. An error reply throws <see cref="RpcException"/>, no reply in
    /// time <see cref="IpcTimeoutException"/>, a lost connection <see cref="IpcException"/>, and
    /// <paramref name="cancellationToken"/> <see cref="OperationCanceledException"/>.
    /// </summary>
    public async Task<TResult> CallAsync<TParams, TResult>(
        string method,
        TParams parameters,
        JsonTypeInfo<TParams> paramsType,
        JsonTypeInfo<TResult> resultType,
        TimeSpan? timeout = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(method);
        ArgumentNullException.ThrowIfNull(paramsType);
        ArgumentNullException.ThrowIfNull(resultType);
        ObjectDisposedException.ThrowIf(_disposed != 0, this);
        cancellationToken.ThrowIfCancellationRequested();
        var limit = timeout ?? DefaultTimeout;
        var id = Interlocked.Increment(ref _nextId);
        var frame = BuildRequest(id, method, parameters, paramsType);

        var reply = new TaskCompletionSource<JsonElement>(TaskCreationOptions.RunContinuationsAsynchronously);
        _pending[id] = reply;
        // Checked after registering: either the read loop's final sweep sees this call or we see its verdict.
        if (_terminal is { } terminal)
        {
            _pending.TryRemove(id, out _);
            throw Rethrowable(terminal);
        }

        try
        {
            await SendAsync(frame, cancellationToken).ConfigureAwait(false);
            var result = await reply.Task.WaitAsync(limit, cancellationToken).ConfigureAwait(false);
            return ReadResult(method, result, resultType);
        }
        catch (TimeoutException)
        {
            Abandon(id);
            throw new IpcTimeoutException($"{method} on {SocketPath} did not reply within {limit.TotalSeconds:0.###} s; the server was asked to cancel it.", method, limit) { SocketPath = SocketPath };
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            Abandon(id);
            throw;
        }
        finally
        {
            _pending.TryRemove(id, out _);
        }
    }

    private TResult ReadResult<TResult>(string method, JsonElement result, JsonTypeInfo<TResult> resultType)
    {
        try
        {
            return result.Deserialize(resultType)!;
        }
        catch (JsonException ex)
        {
            throw new IpcException($"The reply to {method} from {SocketPath} does not match the expected result type: {ex.Message}", ex) { SocketPath = SocketPath };
        }
    }

    private byte[] BuildRequest<TParams>(long id, string method, TParams parameters, JsonTypeInfo<TParams> paramsType) =>
        BuildRequest(SocketPath, id, method, parameters, paramsType);

    private static byte[] BuildRequest<TParams>(string socketPath, long id, string method, TParams parameters, JsonTypeInfo<TParams> paramsType)
    {
        var buffer = new ArrayBufferWriter<byte>(256);
        using (var writer = new Utf8JsonWriter(buffer, Framing.WriterOptions))
        {
            writer.WriteStartObject();
            writer.WriteString("jsonrpc"u8, "2.0"u8);
            writer.WriteNumber("id"u8, id);
            writer.WriteString("method"u8, method);
            writer.WritePropertyName("params"u8);
            JsonSerializer.Serialize(writer, parameters, paramsType);
            writer.WriteEndObject();
        }
        if (buffer.WrittenCount > Framing.MaxPayload)
        {
            throw new IpcException($"The request for {method} is {buffer.WrittenCount} bytes, over the 1 MiB frame limit of {socketPath}.") { SocketPath = socketPath };
        }
        return Framing.Build(buffer.WrittenSpan);
    }

    /// <summary>Stops waiting for <paramref name="id"/> and tells the server to cancel its handler (best effort).</summary>
    private void Abandon(long id)
    {
        _pending.TryRemove(id, out _);
        var buffer = new ArrayBufferWriter<byte>(64);
        using (var writer = new Utf8JsonWriter(buffer, Framing.WriterOptions))
        {
            writer.WriteStartObject();
            writer.WriteString("jsonrpc"u8, "2.0"u8);
            writer.WriteString("method"u8, "$/cancel"u8);
            writer.WriteStartObject("params"u8);
            writer.WriteNumber("id"u8, id);
            writer.WriteEndObject();
            writer.WriteEndObject();
        }
        _ = SendQuietlyAsync(Framing.Build(buffer.WrittenSpan));
    }

    private async Task SendQuietlyAsync(byte[] frame)
    {
        try
        {
            await SendAsync(frame, CancellationToken.None).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is IpcException or ObjectDisposedException or OperationCanceledException)
        {
            // The connection is gone; the server cancels everything of a closed connection anyway.
        }
    }

    private async Task SendAsync(byte[] frame, CancellationToken cancellationToken)
    {
        await _writeLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        Exception failure;
        try
        {
            // Once started, a frame is written whole: a half-written frame would corrupt the stream.
            await _stream.WriteAsync(frame, _closing.Token).ConfigureAwait(false);
            return;
        }
        catch (Exception ex) when (ex is IOException or SocketException or ObjectDisposedException or OperationCanceledException)
        {
            failure = ex;
        }
        finally
        {
            _writeLock.Release();
        }
        // The read side may still hold the server's last word (Busy before it closed); prefer that to EPIPE.
        await Task.WhenAny(_readLoop, Task.Delay(TimeSpan.FromSeconds(1))).ConfigureAwait(false);
        throw Rethrowable(_terminal ?? new IpcException($"Lost the connection to {SocketPath}: {failure.Message}", failure) { SocketPath = SocketPath });
    }

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }
        await _closing.CancelAsync().ConfigureAwait(false);
        await _readLoop.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        await _stream.DisposeAsync().ConfigureAwait(false);
    }
}
