using System.Diagnostics;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using BoxBot.Config;
using BoxBot.Contracts;
using BoxBot.Ipc;
using BoxBot.Mesh;
using BoxBot.Mesh.Broker;
using BoxBot.Mesh.Device;
using BoxBot.Mesh.Discovery;
using BoxBot.Mesh.Wire;
using Microsoft.Extensions.Logging;

namespace BoxBot.PluginHost.Mesh;

/// <summary>
/// The box on the mesh: connects (retrying with backoff while the broker is away, or until its settings are fixed),
/// then serves the box's two devices and keeps the directory of devices; answers the plugin host's mesh methods.
/// </summary>
internal sealed class MeshService : IAsyncDisposable
{
    private static readonly TimeSpan MaxBackoff = TimeSpan.FromSeconds(30);
    private readonly MeshSettings _settings;
    private readonly BoxPaths _paths;
    private readonly CredentialStore _credentials;
    private readonly ILogger _log;
    private readonly TimeProvider _time;
    private readonly Action _reloadBroker;
    private readonly CancellationTokenSource _stop = new();
    private Task _run = Task.CompletedTask;
    private volatile Connected? _connected;
    private volatile string _state = "off";
    private MeshIdentity _identity;
    private long _deniedByBroker;

    public MeshService(MeshSettings settings, BoxPaths paths, CredentialStore credentials, ILogger log, TimeProvider time, Action reloadBroker)
    {
        _settings = settings;
        _paths = paths;
        _credentials = credentials;
        _log = log;
        _time = time;
        _reloadBroker = reloadBroker;
        _identity = new MeshIdentity(settings.Tenant, settings.EffectiveBoxId);
    }

    /// <summary>The box device's functions beyond its own (loaded plugins'), given the names it has already.</summary>
    public Func<IReadOnlySet<string>, IReadOnlyList<(FunctionSpec Spec, DeviceFunctionHandler Handler, TimeSpan Timeout)>>? ExtraFunctions { get; set; }

    /// <summary>The admin device's functions beyond its own (the plugin admin RPCs), set before <see cref="Start"/>.</summary>
    public IReadOnlyList<(FunctionSpec Spec, DeviceFunctionHandler Handler, TimeSpan Timeout)> AdminFunctions { get; set; } = [];

    /// <summary>Offers the current <see cref="ExtraFunctions"/> on the box device (and registers again), when connected.</summary>
    public void RefreshFunctions()
    {
        if (_connected is { } c && ExtraFunctions is { } extra)
        {
            c.Box.SetExtraFunctions(extra(c.Devices.FunctionNames));
        }
    }

    /// <summary>Publishes event <paramref name="name"/> from the box device with <paramref name="payloadJson"/>'s members as its params.</summary>
    public async Task PublishAsync(string name, string payloadJson)
    {
        if (_connected is not { } c || !MeshSubjects.IsValidToken(name))
        {
            return;
        }
        using var payload = JsonDocument.Parse(payloadJson);
        await c.Box.PublishEventAsync(name, w =>
        {
            foreach (var member in payload.RootElement.EnumerateObject())
            {
                if (member.Name is not ("event_id" or "ts" or "device_id"))
                {
                    member.WriteTo(w);
                }
            }
        });
    }

    public string State => _connected is { Client.IsConnected: false } ? "reconnecting" : _state;

    public MeshIdentity Identity => _identity;

    /// <summary>The household broker's authority once connected to the local broker (null otherwise).</summary>
    public BrokerAuthority? Authority => _connected?.Plan.Authority;

    public void Start()
    {
        if (_settings.Broker == MeshBroker.Off)
        {
            return;
        }
        _state = "connecting";
        _run = RunAsync(_stop.Token);
    }

    private async Task RunAsync(CancellationToken stop)
    {
        var delay = TimeSpan.FromSeconds(1);
        while (!stop.IsCancellationRequested)
        {
            MeshPlan? plan = null;
            try
            {
                plan = MeshConnector.Plan(_settings, _credentials, _paths, _time, _reloadBroker);
                _identity = plan.Identity;
                var client = await MeshClient.ConnectAsync(plan.Options, _log, stop);
                client.PermissionDenied += _ => Interlocked.Increment(ref _deniedByBroker);
                var devices = new BoxDevices(plan.Identity, _settings, _paths, plan.Authority, _time);
                var options = new MeshDeviceOptions { CallsPerCallerPerMinute = _settings.CallsPerCallerPerMinute, CallsPerMinute = _settings.CallsPerMinute };
                var box = new MeshDevice(client, plan.Identity.Tenant, devices.BoxSpec, devices.BoxHandlers(), options, _log, _time);
                if (ExtraFunctions is { } extra)
                {
                    box.SetExtraFunctions(extra(devices.FunctionNames));
                }
                // The admin device only where boxbot's own broker lets nobody but admin users call it: a remote broker's
                // permissions are not the box's to know (a Device Connect portal lets every member of the tenant call any device).
                var admin = plan.Authority is null ? null
                    : new MeshDevice(client, plan.Identity.Tenant, devices.AdminSpec, devices.AdminHandlers(), options, _log, _time);
                if (admin is not null && AdminFunctions.Count > 0)
                {
                    admin.SetExtraFunctions(AdminFunctions);
                }
                var directory = new DeviceDirectory(client, plan.Identity.Tenant, _log, _time);
                await directory.StartAsync(stop);
                await box.StartAsync(stop);
                if (admin is not null)
                {
                    await admin.StartAsync(stop);
                }
                _connected = new Connected(plan, client, box, admin, directory, devices);
                _state = "connected";
                _log.LogInformation("mesh: the box is {Box} (and {Admin}) on tenant {Tenant} at {Url}", plan.Identity.BoxId,
                    admin is null ? "no admin device on a remote broker" : plan.Identity.AdminDeviceId, plan.Identity.Tenant, plan.Options.Url);
                return;
            }
            catch (MeshException e)
            {
                plan?.Authority?.Dispose();
                _state = "down: " + e.Message;
                _log.LogWarning("mesh unavailable ({Reason}); retrying in {Seconds} s", e.Message, delay.TotalSeconds);
            }
            catch (OperationCanceledException) when (stop.IsCancellationRequested)
            {
                plan?.Authority?.Dispose();
                return;
            }
            try
            {
                await Task.Delay(delay, _time, stop);
            }
            catch (OperationCanceledException)
            {
                return;
            }
            delay = delay * 2 > MaxBackoff ? MaxBackoff : delay * 2;
        }
    }

    public MeshStatus Status()
    {
        var c = _connected;
        return new MeshStatus
        {
            State = State,
            Broker = _settings.Broker.ToString().ToLowerInvariant(),
            Url = c?.Plan.Options.Url.ToString(),
            Tenant = _identity.Tenant,
            BoxId = _identity.BoxId,
            AdminDevice = _settings.Broker == MeshBroker.Local ? _identity.AdminDeviceId : null,
            Registry = c?.Box.RegistryState,
            Calls = (c?.Box.Calls ?? 0) + (c?.Admin?.Calls ?? 0),
            Refused = (c?.Box.Refused ?? 0) + (c?.Admin?.Refused ?? 0),
            RateLimited = (c?.Box.RateLimited ?? 0) + (c?.Admin?.RateLimited ?? 0),
            DeniedByBroker = Interlocked.Read(ref _deniedByBroker),
        };
    }

    public void AddStatus(IDictionary<string, string> details)
    {
        details["mesh"] = State;
        if (_settings.Broker != MeshBroker.Off)
        {
            details["mesh_device"] = _identity.BoxId;
        }
        if (_connected is { } c)
        {
            details["mesh_url"] = c.Plan.Options.Url.ToString();
            details["mesh_registry"] = c.Box.RegistryState;
            details["mesh_calls"] = (c.Box.Calls + (c.Admin?.Calls ?? 0)).ToString(System.Globalization.CultureInfo.InvariantCulture);
            details["mesh_notices"] = Interlocked.Read(ref c.Devices.Notices).ToString(System.Globalization.CultureInfo.InvariantCulture);
        }
    }

    public async Task<MeshDeviceList> DevicesAsync(CancellationToken cancellationToken)
    {
        var c = Require();
        var (devices, registry) = await c.Directory.ListAsync(cancellationToken);
        return new MeshDeviceList([.. devices.Select(Summary)], registry);
    }

    public async Task<MeshDeviceDescription> DescribeAsync(string deviceId, CancellationToken cancellationToken)
    {
        var c = Require();
        var device = await c.Directory.DescribeAsync(deviceId, cancellationToken)
            ?? throw new RpcException(RpcErrorCodes.NotFound, $"no device '{deviceId}' is known on the mesh (see `boxbot mesh devices`)");
        return new MeshDeviceDescription
        {
            Device = Summary(device),
            Description = device.DescriptionJson is null ? null : JsonDocument.Parse(device.DescriptionJson).RootElement.Clone(),
        };
    }

    /// <summary>
    /// Calls <c>function</c> of a device. <paramref name="checkPolicy"/> (calls from the agent) requires the device and its
    /// function to be known, the params to fit its advertised schema, and the policy of the request's role to allow or ask it.
    /// </summary>
    public async Task<MeshInvokeResult> InvokeAsync(MeshInvokeRequest request, bool checkPolicy, string caller, CancellationToken cancellationToken)
    {
        var c = Require();
        if (!MeshSubjects.IsValidToken(request.DeviceId))
        {
            throw new RpcException(RpcErrorCodes.InvalidParams, $"device_id '{request.DeviceId}' is not a device id (1-64 of A-Z, a-z, 0-9, '_' or '-')");
        }
        if (string.IsNullOrEmpty(request.Function) || request.Function.Length > 128 || request.Function.Any(char.IsControl))
        {
            throw new RpcException(RpcErrorCodes.InvalidParams, "function must be a function name (1 to 128 characters)");
        }
        var parameters = request.Params ?? JsonDocument.Parse("{}").RootElement;
        if (parameters.ValueKind != JsonValueKind.Object)
        {
            throw new RpcException(RpcErrorCodes.InvalidParams, "params must be a JSON object of named arguments");
        }
        if (checkPolicy)
        {
            var decision = _settings.PolicyFor(request.Role ?? "").Decide(request.DeviceId, request.Function);
            if (decision == "deny")
            {
                throw new RpcException(RpcErrorCodes.Refused, $"the mesh policy for {request.Role ?? "(no role)"} does not let the agent call {request.DeviceId}.{request.Function} ([mesh.policy.{request.Role}])");
            }
        }
        var device = await c.Directory.DescribeAsync(request.DeviceId, cancellationToken);
        // Not FirstOrDefault on the tuples: its default is a tuple of nulls, not "none".
        var advertised = device?.Functions().Where(f => f.Name == request.Function)
            .Select(f => ((string Name, string Description, string ParametersJson)?)f).FirstOrDefault();
        if (device is not null && device.DescriptionJson is not null && advertised is null)
        {
            throw new RpcException(RpcErrorCodes.InvalidParams,
                $"{request.DeviceId} advertises no function '{request.Function}' (it has: {string.Join(", ", device.Functions().Select(f => f.Name))})");
        }
        if (advertised is { } f)
        {
            using var schema = JsonDocument.Parse(f.ParametersJson);
            if (ParamSchema.Check(parameters, schema.RootElement) is { } problem)
            {
                throw new RpcException(RpcErrorCodes.InvalidParams, $"params for {request.DeviceId}.{request.Function} do not fit its schema: {problem}");
            }
        }
        else if (checkPolicy)
        {
            throw new RpcException(RpcErrorCodes.NotFound, $"{request.DeviceId} has not described itself on the mesh, so its params cannot be checked: not calling it");
        }
        var timeout = request.TimeoutMs is { } ms ? TimeSpan.FromMilliseconds(Math.Clamp(ms, 100, 60_000)) : _settings.CallTimeout;
        var id = "boxbot-" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(6));
        var clock = Stopwatch.StartNew();
        ReadOnlyMemory<byte> raw;
        try
        {
            raw = await c.Client.RequestAsync(MeshSubjects.Cmd(_identity.Tenant, request.DeviceId),
                RpcRequest.Build(id, request.Function, parameters.GetRawText()), timeout, cancellationToken);
        }
        catch (MeshException e) when (e.Kind == MeshErrorKind.NoResponders)
        {
            throw new RpcException(RpcErrorCodes.NotFound, $"{request.DeviceId} is not on the mesh (nothing answers on its cmd subject)");
        }
        catch (MeshException e) when (e.Kind == MeshErrorKind.Timeout)
        {
            throw new RpcException(RpcErrorCodes.Timeout, $"{request.DeviceId} did not answer {request.Function} within {timeout.TotalSeconds:0.#} s");
        }
        catch (MeshException e)
        {
            throw new RpcException(RpcErrorCodes.Unavailable, e.Message);
        }
        var reply = RpcReply.Parse(raw.Span);
        _log.LogInformation("mesh: {Caller} called {Device}.{Function} ({Outcome}, {Ms:0} ms)", caller, request.DeviceId, request.Function,
            reply.Error is null ? "result" : "error " + reply.Error.Code, clock.Elapsed.TotalMilliseconds);
        return new MeshInvokeResult
        {
            DeviceId = request.DeviceId,
            Function = request.Function,
            Outcome = reply.Error is null ? "result" : "error",
            Result = reply.ResultJson is null ? null : JsonDocument.Parse(reply.ResultJson).RootElement.Clone(),
            Error = reply.Error is { } error ? new MeshDeviceError(error.Code, error.Message) : null,
            ElapsedMs = Math.Round(clock.Elapsed.TotalMilliseconds, 1),
        };
    }

    private static MeshDeviceSummary Summary(MeshDeviceInfo d) => new()
    {
        DeviceId = d.DeviceId,
        DeviceType = d.DeviceType,
        Online = d.Online,
        LastSeen = d.LastSeen,
        Source = d.Source,
        Functions = [.. d.Functions().Select(f => f.Name)],
    };

    private Connected Require() => _connected ?? throw new RpcException(RpcErrorCodes.Unavailable,
        _settings.Broker == MeshBroker.Off ? "the mesh is off (mesh.broker = \"off\")" : $"the box is not on the mesh yet: {_state}");

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        try
        {
            await _run;
        }
        catch (OperationCanceledException)
        {
        }
        if (_connected is { } c)
        {
            await c.Box.DisposeAsync();
            if (c.Admin is not null)
            {
                await c.Admin.DisposeAsync();
            }
            await c.Directory.DisposeAsync();
            await c.Client.DisposeAsync();
            c.Plan.Authority?.Dispose();
        }
        _stop.Dispose();
    }

    private sealed record Connected(MeshPlan Plan, MeshClient Client, MeshDevice Box, MeshDevice? Admin, DeviceDirectory Directory, BoxDevices Devices);
}
