using BoxBot.Mesh.Internal;
using Microsoft.Extensions.Logging;
using NATS.Client.Core;

namespace BoxBot.Mesh;

/// <summary>
/// One authenticated connection to the NATS mesh. Payloads are raw bytes (callers serialize with
/// source-generated JSON contexts), so nothing here uses reflection. Once connected, the client
/// reconnects on its own after a broker restart; <see cref="IsConnected"/> tells the current state.
/// </summary>
public sealed partial class MeshClient : IAsyncDisposable
{
    private readonly NatsConnection _connection;
    private readonly ILogger _logger;
    private int _disposed;

    private MeshClient(NatsConnection connection, ILogger logger)
    {
        _connection = connection;
        _logger = logger;
        _connection.ServerError += OnServerErrorAsync;
        _connection.ConnectionDisconnected += OnDisconnectedAsync;
        _connection.ConnectionOpened += OnOpenedAsync;
        _connection.MessageDropped += OnMessageDroppedAsync;
    }

    /// <summary>
    /// Raised with the broker's text when it refuses a publish or subscribe of this client (a permissions violation):
    /// NATS reports those asynchronously, so the call that caused one has returned normally.
    /// </summary>
    public event Action<string>? PermissionDenied;

    /// <summary>Raised when the connection (re)opens, so a device can announce itself again.</summary>
    public event Action? Reconnected;

    /// <summary>True while the connection to the broker is open.</summary>
    public bool IsConnected => Volatile.Read(ref _disposed) == 0 && _connection.ConnectionState == NatsConnectionState.Open;

    /// <summary>
    /// Connects and authenticates. Throws <see cref="ArgumentException"/> for invalid options and
    /// <see cref="MeshException"/> (<see cref="MeshErrorKind.Unreachable"/> or
    /// <see cref="MeshErrorKind.AuthenticationFailed"/>) when the broker cannot be used.
    /// </summary>
    public static async Task<MeshClient> ConnectAsync(MeshOptions options, ILogger logger, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(logger);
        options.Validate();
        ct.ThrowIfCancellationRequested();

        var connection = new NatsConnection(NatsOptionsMapper.Map(options, logger));
        try
        {
            await connection.ConnectAsync().AsTask().WaitAsync(ct).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            await connection.DisposeAsync().ConfigureAwait(false);
            var failure = ConnectFailure.Describe(options, ex);
            logger.LogWarning(MeshLogEvents.ConnectFailed, "{Message}", failure.Message);
            throw failure;
        }
        catch (OperationCanceledException)
        {
            await connection.DisposeAsync().ConfigureAwait(false);
            throw;
        }

        logger.LogInformation(MeshLogEvents.Connected, "connected to mesh {Host}:{Port} as {Identity}",
            options.Url.Host, options.Url.Port, ConnectFailure.Identity(options));
        return new MeshClient(connection, logger);
    }

    /// <summary>Closes the connection (pending publishes are flushed by the NATS client). Safe to call more than once.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        _connection.ServerError -= OnServerErrorAsync;
        _connection.ConnectionDisconnected -= OnDisconnectedAsync;
        _connection.ConnectionOpened -= OnOpenedAsync;
        _connection.MessageDropped -= OnMessageDroppedAsync;
        await _connection.DisposeAsync().ConfigureAwait(false);
        _logger.LogDebug(MeshLogEvents.Closed, "mesh connection closed");
    }

    private ValueTask OnServerErrorAsync(object? sender, NatsServerErrorEventArgs args)
    {
        // The broker reports a refused publish or subscribe asynchronously (-ERR), not as a failed call:
        // log it so a denied caller is visible to the operator.
        if (args.Kind == NatsServerErrorKind.PermissionsViolation)
        {
            _logger.LogWarning(MeshLogEvents.PermissionDenied, "mesh broker refused: {Error}", args.Error);
            PermissionDenied?.Invoke(args.Error);
        }
        else
        {
            _logger.LogWarning(MeshLogEvents.ServerError, "mesh broker error: {Error}", args.Error);
        }

        return ValueTask.CompletedTask;
    }

    private ValueTask OnDisconnectedAsync(object? sender, NatsEventArgs args)
    {
        if (Volatile.Read(ref _disposed) == 0)
        {
            _logger.LogWarning(MeshLogEvents.Disconnected, "mesh connection lost: {Reason}; reconnecting", args.Message);
        }

        return ValueTask.CompletedTask;
    }

    private ValueTask OnOpenedAsync(object? sender, NatsEventArgs args)
    {
        _logger.LogInformation(MeshLogEvents.Reconnected, "mesh connection open: {Reason}", args.Message);
        Reconnected?.Invoke();
        return ValueTask.CompletedTask;
    }

    private ValueTask OnMessageDroppedAsync(object? sender, NatsMessageDroppedEventArgs args)
    {
        _logger.LogWarning(MeshLogEvents.MessageDropped, "mesh message on {Subject} dropped: the subscriber is too slow", args.Subject);
        return ValueTask.CompletedTask;
    }

    private void ThrowIfDisposed() => ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
}
