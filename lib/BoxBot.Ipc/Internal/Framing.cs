using System.Buffers;
using System.Buffers.Binary;
using System.Text.Encodings.Web;
using System.Text.Json;

namespace BoxBot.Ipc.Internal;

internal enum FrameStatus
{
    Frame,
    EndOfStream,
    Truncated,
    TooLarge,
    TimedOut,
}

/// <summary>A received frame; <see cref="Payload"/> is rented and returned by <see cref="Dispose"/>.</summary>
internal struct Frame : IDisposable
{
    private byte[]? _buffer;

    public Frame(FrameStatus status, byte[]? buffer, long length)
    {
        Status = status;
        _buffer = buffer;
        Length = length;
    }

    public FrameStatus Status { get; }

    /// <summary>Payload length, or for <see cref="FrameStatus.TooLarge"/> the announced length.</summary>
    public long Length { get; }

    public readonly ReadOnlySpan<byte> Payload => _buffer.AsSpan(0, (int)Length);

    public void Dispose()
    {
        if (_buffer is { } b)
        {
            _buffer = null;
            ArrayPool<byte>.Shared.Return(b);
        }
    }
}

/// <summary>4-byte big-endian length + payload, payload at most 1 MiB.</summary>
internal static class Framing
{
    public const int MaxPayload = 1024 * 1024;
    public const int HeaderSize = 4;

    /// <summary>
    /// How every frame's JSON is written: only the escaping JSON itself requires. The default encoder writes every
    /// non-ASCII character as \uXXXX (6 bytes for "é"), so a script of accented text the agent accepts could outgrow
    /// the frame limit on the way to the sandbox; frames are never embedded in HTML, which is what the rest guards.
    /// </summary>
    public static readonly JsonWriterOptions WriterOptions = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    /// <summary>
    /// Reads one frame. Waiting for its first byte takes as long as it takes (idle connections are
    /// fine); from then on the whole frame must arrive within <paramref name="frameTimeout"/>, so a
    /// client cannot hold a connection half-way through a frame.
    /// </summary>
    public static async ValueTask<Frame> ReadAsync(Stream stream, TimeSpan frameTimeout, CancellationToken cancellationToken)
    {
        var header = new byte[HeaderSize];
        var first = await stream.ReadAsync(header.AsMemory(0, HeaderSize), cancellationToken).ConfigureAwait(false);
        if (first == 0)
        {
            return new Frame(FrameStatus.EndOfStream, null, 0);
        }

        using var frameCts = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        frameCts.CancelAfter(frameTimeout);
        byte[]? buffer = null;
        try
        {
            if (first < HeaderSize && !await ReadExactlyAsync(stream, header.AsMemory(first), frameCts.Token).ConfigureAwait(false))
            {
                return new Frame(FrameStatus.Truncated, null, 0);
            }
            var length = BinaryPrimitives.ReadUInt32BigEndian(header);
            if (length > MaxPayload)
            {
                // Never read the body: the announced size alone decides.
                return new Frame(FrameStatus.TooLarge, null, length);
            }
            buffer = ArrayPool<byte>.Shared.Rent((int)Math.Max(length, 1));
            if (!await ReadExactlyAsync(stream, buffer.AsMemory(0, (int)length), frameCts.Token).ConfigureAwait(false))
            {
                ArrayPool<byte>.Shared.Return(buffer);
                return new Frame(FrameStatus.Truncated, null, 0);
            }
            return new Frame(FrameStatus.Frame, buffer, (int)length);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            if (buffer is not null)
            {
                ArrayPool<byte>.Shared.Return(buffer);
            }
            return new Frame(FrameStatus.TimedOut, null, 0);
        }
    }

    private static async ValueTask<bool> ReadExactlyAsync(Stream stream, Memory<byte> target, CancellationToken cancellationToken)
    {
        var read = await stream.ReadAtLeastAsync(target, target.Length, throwOnEndOfStream: false, cancellationToken).ConfigureAwait(false);
        return read == target.Length;
    }

    /// <summary>Header + body in one array, so one write puts a whole frame on the socket.</summary>
    public static byte[] Build(ReadOnlySpan<byte> payload)
    {
        var frame = new byte[HeaderSize + payload.Length];
        BinaryPrimitives.WriteUInt32BigEndian(frame, (uint)payload.Length);
        payload.CopyTo(frame.AsSpan(HeaderSize));
        return frame;
    }
}
