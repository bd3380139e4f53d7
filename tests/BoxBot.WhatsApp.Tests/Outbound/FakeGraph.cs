using System.Collections.Concurrent;
using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace BoxBot.WhatsApp.Tests.Outbound;

/// <summary>
/// The WhatsApp Cloud API's <c>/messages</c> endpoint as a real HTTP server on loopback (Kestrel): it records every
/// request and answers from a script, in Meta's wire format. With the script empty it accepts each message with
/// the id <c>wamid.N</c> (N counts accepted messages from 1).
/// </summary>
internal sealed class FakeGraph : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly ConcurrentQueue<Reply> _script = new();
    private readonly ConcurrentQueue<GraphRequest> _requests = new();
    private readonly CancellationTokenSource _stopping = new();
    private int _accepted;

    private FakeGraph(WebApplication app) => _app = app;

    /// <summary>The base URL, like <c>https://graph.facebook.com</c>: <c>http://127.0.0.1:PORT/</c>.</summary>
    public Uri Url { get; private set; } = null!;

    public IReadOnlyList<GraphRequest> Requests => [.. _requests];

    public static async Task<FakeGraph> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(k => k.Listen(IPAddress.Loopback, 0));
        var app = builder.Build();
        var fake = new FakeGraph(app);
        app.Run(fake.HandleAsync);
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        fake.Url = new Uri(address + "/");
        return fake;
    }

    /// <summary>Answers the next request with <paramref name="reply"/> (replies are used in order, then the default).</summary>
    public FakeGraph Then(Reply reply)
    {
        _script.Enqueue(reply);
        return this;
    }

    public async ValueTask DisposeAsync()
    {
        await _stopping.CancelAsync();
        await _app.DisposeAsync();
        _stopping.Dispose();
    }

    private async Task HandleAsync(HttpContext http)
    {
        using var reader = new StreamReader(http.Request.Body);
        var body = await reader.ReadToEndAsync();
        _requests.Enqueue(new GraphRequest(http.Request.Method, http.Request.Path.Value ?? "", http.Request.Headers.Authorization.ToString(),
            http.Request.ContentType ?? "", body));
        var reply = _script.TryDequeue(out var next) ? next : Reply.Accepted();
        if (reply.Hang)
        {
            using var either = CancellationTokenSource.CreateLinkedTokenSource(http.RequestAborted, _stopping.Token);
            await Task.Delay(Timeout.Infinite, either.Token).ContinueWith(_ => { }, TaskScheduler.Default);
            return;
        }
        http.Response.StatusCode = reply.Status;
        if (reply.RetryAfter is { } retryAfter)
        {
            http.Response.Headers.RetryAfter = retryAfter;
        }
        http.Response.ContentType = "application/json; charset=UTF-8";
        var answer = reply.Body ?? Accept(body);
        await http.Response.WriteAsync(answer);
    }

    private string Accept(string request)
    {
        var n = Interlocked.Increment(ref _accepted);
        var to = System.Text.Json.JsonDocument.Parse(request).RootElement.GetProperty("to").GetString();
        return $$"""{"messaging_product":"whatsapp","contacts":[{"input":"{{to}}","wa_id":"{{to}}"}],"messages":[{"id":"wamid.{{n}}"}]}""";
    }
}

/// <summary>One request as the fake received it.</summary>
internal sealed record GraphRequest(string Method, string Path, string Authorization, string ContentType, string Body);

/// <summary>What the fake answers: a status, a body (null: accept the message), a Retry-After header, or no answer at all.</summary>
internal sealed record Reply(int Status, string? Body, string? RetryAfter = null, bool Hang = false)
{
    public static Reply Accepted() => new(200, null);

    public static Reply Accepted(string id) =>
        new(200, $$"""{"messaging_product":"whatsapp","contacts":[{"input":"1","wa_id":"1"}],"messages":[{"id":"{{id}}"}]}""");

    /// <summary>A Graph error in Meta's shape: <c>{"error":{"message","type","code","error_subcode","fbtrace_id","error_data"}}</c>.</summary>
    public static Reply Error(int status, int code, string message, string? retryAfter = null, int? subcode = null, string? details = null)
    {
        var sub = subcode is { } s ? $",\"error_subcode\":{s}" : "";
        var data = details is null ? "" : $",\"error_data\":{{\"messaging_product\":\"whatsapp\",\"details\":\"{details}\"}}";
        return new(status, $"{{\"error\":{{\"message\":\"{message}\",\"type\":\"OAuthException\",\"code\":{code}{sub}{data},\"fbtrace_id\":\"AbCdEf123\"}}}}", retryAfter);
    }

    public static Reply NoAnswer() => new(0, null, Hang: true);
}
