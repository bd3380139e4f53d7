using System.Net.Sockets;
using BoxBot.Sandbox.Sdk.Internal;
using Microsoft.Extensions.Logging;

namespace BoxBot.Sandbox.Sdk;

/// <summary>
/// Serves one job's SDK channel: reads JSON-RPC request lines from the job's socket end, validates each
/// as untrusted input, calls <see cref="ISdkHost"/> and writes one reply line per request.
/// The protocol is specified in lib/BoxBot.Sandbox/Sdk/README.md.
/// </summary>
public sealed partial class SdkSession
{
    private readonly SdkOptions _options;
    private readonly ISdkHost _host;
    private readonly ILogger _logger;
    private readonly List<SdkAttachment> _attachments = [];
    private int _calls;

    public SdkSession(SdkOptions options, ISdkHost host, ILogger logger)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(host);
        ArgumentNullException.ThrowIfNull(logger);
        ArgumentException.ThrowIfNullOrEmpty(options.WorkspaceHostPath);
        ArgumentOutOfRangeException.ThrowIfLessThan(options.MaxLineBytes, 256);
        ArgumentOutOfRangeException.ThrowIfNegative(options.MaxCalls);
        ArgumentOutOfRangeException.ThrowIfNegative(options.MaxAttachmentBytes);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(options.MaxAttachmentBytes, Array.MaxLength);
        ArgumentOutOfRangeException.ThrowIfNegative(options.MaxAttachments);
        if (!options.WorkspaceInJob.StartsWith('/'))
        {
            throw new ArgumentException($"WorkspaceInJob must be absolute, not '{options.WorkspaceInJob}'", nameof(options));
        }

        _options = options;
        _host = host;
        _logger = logger;
    }

    /// <summary>Requests received so far, valid or not (at most <see cref="SdkOptions.MaxCalls"/>; the refused one is not counted).</summary>
    public int Calls => Volatile.Read(ref _calls);

    /// <summary>Files the job attached, in order, with their bytes as captured at attach time.</summary>
    public IReadOnlyList<SdkAttachment> Attachments
    {
        get
        {
            lock (_attachments)
            {
                return _attachments.ToArray();
            }
        }
    }

    /// <summary>
    /// Serves <paramref name="channel"/> until the job closes it, a limit closes it, or <paramref name="ct"/> is cancelled;
    /// then shuts the socket down (the caller still disposes it). Never throws for anything the job sends;
    /// cancellation returns normally.
    /// </summary>
    public async Task RunAsync(Socket channel, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(channel);
        // Room for the longest allowed line plus its newline: a full buffer without a newline is a line too long.
        var buffer = new byte[_options.MaxLineBytes + 1];
        var filled = 0;
        try
        {
            while (true)
            {
                var read = await channel.ReceiveAsync(buffer.AsMemory(filled), SocketFlags.None, ct).ConfigureAwait(false);
                if (read == 0)
                {
                    SdkLog.ChannelEnded(_logger, "eof", Calls);
                    return;
                }

                filled += read;
                var start = 0;
                while (true)
                {
                    var newline = Array.IndexOf(buffer, (byte)'\n', start, filled - start);
                    if (newline < 0)
                    {
                        break;
                    }

                    var keepGoing = await HandleLineAsync(channel, buffer.AsMemory(start, newline - start), ct).ConfigureAwait(false);
                    if (!keepGoing)
                    {
                        return;
                    }

                    start = newline + 1;
                }

                Buffer.BlockCopy(buffer, start, buffer, 0, filled - start);
                filled -= start;
                if (filled == buffer.Length)
                {
                    SdkLog.LineTooLong(_logger, _options.MaxLineBytes);
                    await SendAsync(channel, SdkReply.Error(null, SdkErrorCodes.LineTooLong,
                        $"request line longer than {_options.MaxLineBytes} bytes; the SDK channel is closed"), ct).ConfigureAwait(false);
                    SdkLog.ChannelEnded(_logger, "line-too-long", Calls);
                    return;
                }
            }
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
            SdkLog.ChannelEnded(_logger, "cancelled", Calls);
        }
        catch (SocketException e)
        {
            // The job died or closed its end while we were writing: nothing more to serve.
            SdkLog.ChannelEnded(_logger, "socket-" + e.SocketErrorCode, Calls);
        }
        catch (ObjectDisposedException)
        {
            SdkLog.ChannelEnded(_logger, "disposed", Calls);
        }
        finally
        {
            try
            {
                channel.Shutdown(SocketShutdown.Both);
            }
            catch (Exception e) when (e is SocketException or ObjectDisposedException)
            {
                // Already closed by the peer or the caller.
            }
        }
    }

    /// <summary>Answers one line; false when the channel must close.</summary>
    private async ValueTask<bool> HandleLineAsync(Socket channel, ReadOnlyMemory<byte> line, CancellationToken ct)
    {
        if (_calls >= _options.MaxCalls)
        {
            SdkLog.TooManyCalls(_logger, _options.MaxCalls);
            await SendAsync(channel, SdkReply.Error(SdkRequest.PeekId(line.Span), SdkErrorCodes.TooManyCalls,
                $"more than {_options.MaxCalls} SDK calls in one job; the SDK channel is closed"), ct).ConfigureAwait(false);
            SdkLog.ChannelEnded(_logger, "too-many-calls", Calls);
            return false;
        }

        Interlocked.Increment(ref _calls);
        byte[] reply;
        try
        {
            reply = await DispatchAsync(line, ct).ConfigureAwait(false);
        }
        catch (Exception e) when (e is not OperationCanceledException || !ct.IsCancellationRequested)
        {
            // A request we failed to foresee must cost the job one error reply, never the session.
            SdkLog.HostFailed(_logger, "(dispatch)", e.GetType().Name);
            reply = SdkReply.Error(null, SdkErrorCodes.InternalError, "the host could not handle the request");
        }


        await SendAsync(channel, reply, ct).ConfigureAwait(false);
        return true;
    }

    private static async ValueTask SendAsync(Socket channel, byte[] reply, CancellationToken ct)
    {
        var sent = 0;
        while (sent < reply.Length)
        {
            sent += await channel.SendAsync(reply.AsMemory(sent), SocketFlags.None, ct).ConfigureAwait(false);
        }
    }
}
