using System.Buffers.Binary;
using System.Collections.Concurrent;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using Microsoft.Extensions.Logging;

namespace BoxBot.Ipc.Tests;

public sealed record TextParams(string Text);
public sealed record TextResult(string Text);
public sealed record LengthResult(int Length);
public sealed record AddParams(int A, int B);
public sealed record SumResult(int Sum);
public sealed record DelayParams(int Ms);
public sealed record PeerResult(int Pid, uint Uid, uint Gid, uint[] Groups);

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase)]
[JsonSerializable(typeof(TextParams))]
[JsonSerializable(typeof(TextResult))]
[JsonSerializable(typeof(LengthResult))]
[JsonSerializable(typeof(AddParams))]
[JsonSerializable(typeof(SumResult))]
[JsonSerializable(typeof(DelayParams))]
[JsonSerializable(typeof(PeerResult))]
public sealed partial class TestJson : JsonSerializerContext;

public sealed record LogEntry(LogLevel Level, int EventId, string Message, Exception? Exception);

/// <summary>Keeps every log line so tests can assert that refusals and closures are never silent.</summary>
public sealed class CapturingLogger : ILogger
{
    private readonly ConcurrentQueue<LogEntry> _entries = new();

    public IReadOnlyList<LogEntry> Entries => [.. _entries];

    public IReadOnlyList<LogEntry> WithEvent(int eventId) => [.. _entries.Where(e => e.EventId == eventId)];

    public IDisposable? BeginScope<TState>(TState state)
        where TState : notnull => null;

    public bool IsEnabled(LogLevel logLevel) => true;

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
        _entries.Enqueue(new LogEntry(logLevel, eventId.Id, formatter(state, exception), exception));
}

/// <summary>A raw socket speaking the frame format by hand, to send what a well-behaved client never would.</summary>
public sealed class RawConnection : IDisposable
{
    public RawConnection(Socket socket) => Socket = socket;

    public Socket Socket { get; }

    public static async Task<RawConnection> ConnectAsync(string path)
    {
        var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        await socket.ConnectAsync(new UnixDomainSocketEndPoint(path));
        return new RawConnection(socket);
    }

    public Task SendFrameAsync(string json) => SendFrameAsync(Encoding.UTF8.GetBytes(json));

    public async Task SendFrameAsync(byte[] payload)
    {
        var frame = new byte[4 + payload.Length];
        BinaryPrimitives.WriteUInt32BigEndian(frame, (uint)payload.Length);
        payload.CopyTo(frame, 4);
        await SendRawAsync(frame);
    }

    public async Task SendRawAsync(byte[] bytes)
    {
        var sent = 0;
        while (sent < bytes.Length)
        {
            sent += await Socket.SendAsync(bytes.AsMemory(sent), SocketFlags.None);
        }
    }

    /// <summary>The next reply, or null when the server closed the connection.</summary>
    public async Task<JsonElement?> ReadReplyAsync(TimeSpan? timeout = null)
    {
        using var cts = new CancellationTokenSource(timeout ?? TimeSpan.FromSeconds(10));
        var header = new byte[4];
        if (!await ReadExactlyAsync(header, cts.Token))
        {
            return null;
        }
        var body = new byte[BinaryPrimitives.ReadUInt32BigEndian(header)];
        if (!await ReadExactlyAsync(body, cts.Token))
        {
            return null;
        }
        using var document = JsonDocument.Parse(body);
        return document.RootElement.Clone();
    }

    /// <summary>True when the server closes the connection (EOF or reset) within the timeout.</summary>
    public async Task<bool> IsClosedByServerAsync(TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        var buffer = new byte[1024];
        try
        {
            while (true)
            {
                if (await Socket.ReceiveAsync(buffer, SocketFlags.None, cts.Token) == 0)
                {
                    return true;
                }
            }
        }
        catch (SocketException)
        {
            return true;
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }

    private async Task<bool> ReadExactlyAsync(byte[] target, CancellationToken ct)
    {
        var read = 0;
        while (read < target.Length)
        {
            var n = await Socket.ReceiveAsync(target.AsMemory(read), SocketFlags.None, ct);
            if (n == 0)
            {
                return false;
            }
            read += n;
        }
        return true;
    }

    public void Dispose() => Socket.Dispose();
}

public static class ReplyExtensions
{
    public static int ErrorCode(this JsonElement? reply)
    {
        Assert.That(reply, Is.Not.Null, "the server closed the connection instead of replying");
        Assert.That(reply!.Value.TryGetProperty("error", out var error), Is.True, "expected an error reply, got " + reply);
        return error.GetProperty("code").GetInt32();
    }

    public static JsonElement Result(this JsonElement? reply)
    {
        Assert.That(reply, Is.Not.Null, "the server closed the connection instead of replying");
        Assert.That(reply!.Value.TryGetProperty("result", out var result), Is.True, "expected a result, got " + reply);
        return result;
    }

    public static string ErrorMessage(this JsonElement? reply) => reply!.Value.GetProperty("error").GetProperty("message").GetString()!;

    public static string IdText(this JsonElement? reply) => reply!.Value.GetProperty("id").GetRawText();
}

public static class Eventually
{
    /// <summary>Waits for something another thread does; the bound only keeps a broken build from hanging.</summary>
    public static async Task<bool> TrueAsync(Func<bool> condition, TimeSpan? within = null)
    {
        var deadline = DateTime.UtcNow + (within ?? TimeSpan.FromSeconds(10));
        while (DateTime.UtcNow < deadline)
        {
            if (condition())
            {
                return true;
            }
            await Task.Delay(10);
        }
        return condition();
    }
}
