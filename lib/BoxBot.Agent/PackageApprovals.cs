using BoxBot.Agent.Internal;
using BoxBot.Contracts;
using BoxBot.Ipc;
using Microsoft.Extensions.Logging;

namespace BoxBot.Agent;

/// <summary>Where packages come from and go to. Built by the agent from the config and <see cref="BoxBot.Config.BoxPaths"/>.</summary>
public sealed record PackageOptions
{
    public static readonly TimeSpan DefaultPipTimeout = TimeSpan.FromMinutes(5);

    /// <summary>The system interpreter whose pip and venv modules do the work: the one jobs run with (<c>[sandbox] python</c>), so wheels match it.</summary>
    public required string Python { get; init; }
    /// <summary>The venv of approved packages (<c>BoxPaths.SandboxVenv</c>).</summary>
    public required string Venv { get; init; }
    /// <summary>The agent's state folder: <c>approvals.json</c>, <c>packages-audit.log</c>, pip's scratch folders.</summary>
    public required string StateDir { get; init; }
    /// <summary><c>[agent] package_index_url</c>; null for no index.</summary>
    public Uri? IndexUrl { get; init; }
    /// <summary><c>[agent] package_find_links</c>; "" for none.</summary>
    public string FindLinks { get; init; } = "";
    /// <summary>Each pip (or venv) run is stopped after this long.</summary>
    public TimeSpan PipTimeout { get; init; } = DefaultPipTimeout;
    public TimeSpan ApprovalLifetime { get; init; } = ApprovalStore.DefaultLifetime;
}

/// <summary>
/// Approved Python packages for sandbox jobs: a request is resolved by pip (wheels only, dry run) to the exact files
/// that would be installed and waits in the <see cref="ApprovalStore"/>; a human's approval installs exactly those
/// files (pinned by sha256) into the venv jobs see read-only; every step is appended to the audit log. The CLI's RPC
/// methods call this; the touchscreen and WhatsApp approvals will call the same <see cref="ApproveAsync"/> and
/// <see cref="Deny"/>. One pip runs at a time.
/// </summary>
public sealed class PackageApprovals : IAsyncDisposable
{
    private readonly PackageOptions _options;
    private readonly ILogger _log;
    private readonly PythonTool _python;
    private readonly Pip _pip;
    private readonly Venv _venv;
    private readonly PackageAudit _audit;
    private readonly string _scratchRoot;
    private readonly SemaphoreSlim _pipGate = new(1, 1);
    private readonly CancellationTokenSource _stopping = new();
    private string? _pythonVersion;
    private int _disposed;

    public PackageApprovals(PackageOptions options, TimeProvider time, ILogger log)
    {
        ArgumentNullException.ThrowIfNull(options);
        _options = options;
        _log = log;
        _python = new PythonTool(options.Python, options.PipTimeout);
        _pip = new Pip(_python, options.IndexUrl, options.FindLinks);
        _venv = new Venv(options.Venv);
        _audit = new PackageAudit(Path.Combine(options.StateDir, "packages-audit.log"), time);
        _scratchRoot = Path.Combine(options.StateDir, "pip-tmp");
        if (Directory.Exists(_scratchRoot))
        {
            Directory.Delete(_scratchRoot, recursive: true); // left by a crash; nothing in it is needed
        }
        Store = new ApprovalStore(Path.Combine(options.StateDir, "approvals.json"), time, EndedWithoutDecision, options.ApprovalLifetime);
    }

    public ApprovalStore Store { get; }

    public string AuditLogPath => _audit.Path;

    /// <summary>Resolves the request with pip and stores it as a pending approval; nothing is installed.</summary>
    /// <exception cref="RpcException">
    /// InvalidParams for a malformed request; Refused when what pip resolved may not be installed (not a wheel, no hash);
    /// Upstream when pip or the index failed; Busy when too many wait.
    /// </exception>
    public async Task<Approval> RequestAsync(PackageRequest request, string requestedBy, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        var specs = PackageSpecs.Validate(request.Specs);
        var reason = PackageSpecs.ValidateReason(request.Reason);
        Store.EnsureRoom();
        IReadOnlyList<ResolvedPackage> resolved;
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, _stopping.Token);
        await _pipGate.WaitAsync(linked.Token);
        try
        {
            var scratch = NewScratch();
            try
            {
                resolved = await _pip.ResolveAsync(specs, scratch, linked.Token);
                var installed = Venv.Installed(_venv.SitePackages(await PythonVersionAsync(scratch, linked.Token)))
                    .ToDictionary(p => PackageSpecs.Normalize(p.Name), p => p.Version, StringComparer.Ordinal);
                resolved = [.. resolved.Select(p => p with { InstalledVersion = installed.GetValueOrDefault(PackageSpecs.Normalize(p.Name)) })];
            }
            finally
            {
                Directory.Delete(scratch, recursive: true);
            }
        }
        catch (PackageException e)
        {
            PackageLog.RequestRefused(_log, requestedBy, string.Join(' ', specs), e.Message);
            throw new RpcException(e.Code, e.Message);
        }
        finally
        {
            _pipGate.Release();
        }
        var approval = Store.Add(requestedBy, reason, specs, resolved);
        Audit("requested", approval);
        PackageLog.Requested(_log, approval.Id, requestedBy, string.Join(' ', specs), Describe(approval.Packages));
        return approval;
    }

    /// <summary>
    /// A human approved: installs exactly the resolved set and returns the approval as <c>installed</c> or
    /// <c>failed</c> (with the reason). The install runs to its end even if the caller goes away.
    /// </summary>
    /// <exception cref="RpcException">NotFound when there is no such approval, Refused when it is no longer pending.</exception>
    public async Task<Approval> ApproveAsync(string id, string approvedBy)
    {
        var approval = Store.BeginInstall(id, approvedBy);
        var packages = Describe(approval.Packages);
        try
        {
            // Fail closed: no install without its audit line on disk.
            _audit.Append("approved", approval);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            PackageLog.AuditFailed(_log, _audit.Path, e.Message);
            var failed = Store.Finish(id, $"nothing was installed: the audit log {_audit.Path} could not be written ({e.Message})");
            PackageLog.InstallFailed(_log, id, packages, failed.Error!);
            return failed;
        }
        PackageLog.Approved(_log, id, approvedBy, packages);
        string? error = null;
        try
        {
            await InstallAsync(approval.Packages, _stopping.Token);
        }
        catch (PackageException e)
        {
            error = e.Message;
        }
        catch (OperationCanceledException)
        {
            error = "the agent stopped during the install; check `boxbot packages list` and request the packages again";
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            error = $"the venv {_venv.Root} could not be written: {e.Message}";
        }
        catch (Exception e)
        {
            Store.Finish(id, "internal error: " + e.GetType().Name);
            throw;
        }
        var result = Store.Finish(id, error);
        if (error is null)
        {
            PackageLog.Installed(_log, id, packages);
        }
        else
        {
            PackageLog.InstallFailed(_log, id, packages, error);
        }
        Audit(result.State, result);
        return result;
    }

    /// <summary>A human denied: nothing is installed.</summary>
    public Approval Deny(string id, string deniedBy)
    {
        var approval = Store.Deny(id, deniedBy);
        Audit("denied", approval);
        PackageLog.Denied(_log, id, deniedBy, Describe(approval.Packages));
        return approval;
    }

    /// <summary>What the venv holds now, from the dist-info folders (read as text; nothing is run from the venv).</summary>
    public async Task<InstalledPackageList> InstalledAsync(CancellationToken cancellationToken)
    {
        if (!_venv.Exists)
        {
            return new InstalledPackageList(_venv.Root, []);
        }
        var scratch = NewScratch();
        try
        {
            return new InstalledPackageList(_venv.Root, Venv.Installed(_venv.SitePackages(await PythonVersionAsync(scratch, cancellationToken))));
        }
        catch (PackageException e)
        {
            throw new RpcException(RpcErrorCodes.Unavailable, e.Message);
        }
        finally
        {
            Directory.Delete(scratch, recursive: true);
        }
    }

    private async Task InstallAsync(IReadOnlyList<ResolvedPackage> packages, CancellationToken cancellationToken)
    {
        await _pipGate.WaitAsync(cancellationToken);
        var scratch = NewScratch();
        try
        {
            await _venv.EnsureAsync(_python, scratch, cancellationToken);
            var site = _venv.SitePackages(await PythonVersionAsync(scratch, cancellationToken));
            try
            {
                await _pip.InstallAsync(packages, site, scratch, cancellationToken);
            }
            finally
            {
                // Whatever pip managed to write must be readable, and not writable, by the sandbox user.
                _venv.NormalizeModes();
            }
            Venv.RemoveStaleDistInfo(site, packages);
            var installed = Venv.Installed(site).Select(p => (PackageSpecs.Normalize(p.Name), p.Version)).ToHashSet();
            var missing = packages.Where(p => !installed.Contains((PackageSpecs.Normalize(p.Name), p.Version))).ToList();
            if (missing.Count > 0)
            {
                throw new PackageException($"pip finished but {Describe(missing)} is not in {site}");
            }
        }
        finally
        {
            Directory.Delete(scratch, recursive: true);
            _pipGate.Release();
        }
    }

    private async Task<string> PythonVersionAsync(string scratch, CancellationToken cancellationToken) =>
        _pythonVersion ??= await _python.VersionAsync(scratch, cancellationToken);

    /// <summary>A fresh private folder for one pip run: its HOME, TMPDIR, report and requirements file.</summary>
    private string NewScratch()
    {
        const UnixFileMode Private = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute;
        Directory.CreateDirectory(_scratchRoot, Private);
        var dir = Path.Combine(_scratchRoot, Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(dir, Private);
        return dir;
    }

    private void EndedWithoutDecision(Approval approval)
    {
        PackageLog.Ended(_log, approval.Id, approval.State, approval.Error ?? "");
        Audit(approval.State, approval);
    }

    /// <summary>Audit lines other than "approved" (which gates the install): a failure is logged loudly, the decision stands.</summary>
    private void Audit(string @event, Approval approval)
    {
        try
        {
            _audit.Append(@event, approval);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            PackageLog.AuditFailed(_log, _audit.Path, e.Message);
        }
    }

    internal static string Describe(IEnumerable<ResolvedPackage> packages) => string.Join(", ", packages.Select(p => $"{p.Name}=={p.Version}"));

    public ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 0)
        {
            _stopping.Cancel();
        }
        return ValueTask.CompletedTask;
    }
}
