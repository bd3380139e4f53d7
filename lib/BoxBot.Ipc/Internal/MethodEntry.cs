using System.Text.Json;
using System.Text.Json.Serialization.Metadata;

namespace BoxBot.Ipc.Internal;

/// <summary>Params could not be read as the method's params type; the message is safe to send back.</summary>
internal sealed class InvalidParamsException(string message) : Exception(message);

/// <summary>One mapped method, with its types erased so the dispatcher can treat all methods alike.</summary>
internal abstract class MethodEntry(string name, CallerPolicy policy, TimeSpan timeout)
{
    private static readonly byte[] EmptyObject = "{}"u8.ToArray();

    public string Name { get; } = name;

    public CallerPolicy Policy { get; } = policy;

    public TimeSpan Timeout { get; } = timeout;

    /// <summary>Runs the handler and returns its result as serialized JSON.</summary>
    public abstract Task<byte[]> InvokeAsync(JsonElement? parameters, RpcContext context, CancellationToken cancellationToken);

    protected static T ReadParams<T>(JsonElement? parameters, JsonTypeInfo<T> type)
    {
        try
        {
            var value = parameters is { } p ? p.Deserialize(type) : JsonSerializer.Deserialize(EmptyObject, type);
            return value ?? throw new InvalidParamsException("params must not be null");
        }
        catch (JsonException ex)
        {
            throw new InvalidParamsException(Sanitize(ex.Message));
        }
    }

    /// <summary>Single line, bounded length: the text goes back to an untrusted caller.</summary>
    private static string Sanitize(string message)
    {
        var oneLine = message.ReplaceLineEndings(" ");
        return "invalid params: " + (oneLine.Length <= 300 ? oneLine : oneLine[..300] + "...");
    }
}

internal sealed class MethodEntry<TParams, TResult>(
    string name,
    CallerPolicy policy,
    TimeSpan timeout,
    JsonTypeInfo<TParams> paramsType,
    JsonTypeInfo<TResult> resultType,
    Func<TParams, RpcContext, CancellationToken, ValueTask<TResult>> handler)
    : MethodEntry(name, policy, timeout)
{
    public override async Task<byte[]> InvokeAsync(JsonElement? parameters, RpcContext context, CancellationToken cancellationToken)
    {
        var value = ReadParams(parameters, paramsType);
        var result = await handler(value, context, cancellationToken).ConfigureAwait(false);
        var buffer = new System.Buffers.ArrayBufferWriter<byte>(256);
        using (var writer = new Utf8JsonWriter(buffer, Framing.WriterOptions))
        {
            JsonSerializer.Serialize(writer, result, resultType);
        }
        return buffer.WrittenSpan.ToArray();
    }
}

/// <summary>Counts in-flight requests server-wide and lets a drain wait for zero.</summary>
internal sealed class RequestTracker
{
    private readonly Lock _gate = new();
    private int _count;
    private TaskCompletionSource? _idle;

    public int Count => Volatile.Read(ref _count);

    public void Enter()
    {
        lock (_gate)
        {
            _count++;
        }
    }

    public void Exit()
    {
        TaskCompletionSource? idle = null;
        lock (_gate)
        {
            if (--_count == 0)
            {
                idle = _idle;
                _idle = null;
            }
        }
        idle?.TrySetResult();
    }

    public Task WhenIdleAsync()
    {
        lock (_gate)
        {
            if (_count == 0)
            {
                return Task.CompletedTask;
            }
            _idle ??= new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            return _idle.Task;
        }
    }
}
