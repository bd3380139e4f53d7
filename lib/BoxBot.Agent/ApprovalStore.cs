using System.Security.Cryptography;
using BoxBot.Contracts;
using BoxBot.Ipc;

namespace BoxBot.Agent;

/// <summary>
/// Requests that wait for a human (<c>approvals.json</c>, mode 0600, written atomically, so they survive restarts).
/// The state machine is the only way through: pending → installing → installed | failed, pending → denied | expired.
/// Pending approvals expire after <see cref="Lifetime"/> and at most <see cref="MaxPending"/> wait at once. Whoever
/// decides (the CLI today, the touchscreen and WhatsApp later) goes through <see cref="BeginInstall"/> and
/// <see cref="Deny"/>. Errors a caller can cause are <see cref="RpcException"/>s that say what to do.
/// </summary>
public sealed partial class ApprovalStore
{
    public const int MaxPending = 16;
    /// <summary>Decided approvals kept for <c>approvals list --all</c>; the audit log keeps them all.</summary>
    public const int MaxKept = 200;
    public static readonly TimeSpan DefaultLifetime = TimeSpan.FromHours(24);
    private const UnixFileMode Private = UnixFileMode.UserRead | UnixFileMode.UserWrite;

    private readonly string _path;
    private readonly TimeProvider _time;
    private readonly Action<Approval> _endedWithoutDecision;
    private readonly Lock _gate = new();
    private List<Approval> _approvals;

    /// <param name="path">The state file.</param>
    /// <param name="time">The clock (tests pass their own).</param>
    /// <param name="endedWithoutDecision">
    /// Called (outside the store's lock) for each approval that expired, or that a restart found half-installed and
    /// ended as failed; the agent audits them.
    /// </param>
    /// <param name="lifetime">How long a pending approval waits; <see cref="DefaultLifetime"/> when null.</param>
    public ApprovalStore(string path, TimeProvider time, Action<Approval>? endedWithoutDecision = null, TimeSpan? lifetime = null)
    {
        _path = path;
        _time = time;
        _endedWithoutDecision = endedWithoutDecision ?? (_ => { });
        Lifetime = lifetime ?? DefaultLifetime;
        _approvals = Load(path);
        // An install that was running when the agent stopped did not finish: pip may have moved part of the set.
        var interrupted = Update(a => a.State == ApprovalStates.Installing, a => a with
        {
            State = ApprovalStates.Failed,
            Error = "the agent stopped during the install; check `boxbot packages list` and request the packages again",
        });
        Report(interrupted);
    }

    public TimeSpan Lifetime { get; }

    public int PendingCount
    {
        get
        {
            Report(ExpireDue());
            lock (_gate)
            {
                return _approvals.Count(a => a.State == ApprovalStates.Pending);
            }
        }
    }

    /// <summary>Throws Busy when <see cref="MaxPending"/> approvals wait already (checked before the slow resolve, and again on add).</summary>
    public void EnsureRoom()
    {
        if (PendingCount >= MaxPending)
        {
            throw Full();
        }
    }

    /// <summary>A new pending approval for <paramref name="packages"/>, exactly as resolved.</summary>
    public Approval Add(string requestedBy, string? reason, IReadOnlyList<string> specs, IReadOnlyList<ResolvedPackage> packages)
    {
        foreach (var p in packages)
        {
            RequireValid(p);
        }
        return AddPending((id, now) => new Approval
        {
            Id = id,
            Kind = ApprovalKinds.Packages,
            CreatedAt = now,
            ExpiresAt = now + Lifetime,
            State = ApprovalStates.Pending,
            RequestedBy = requestedBy,
            Reason = reason,
            Specs = [.. specs],
            Packages = [.. packages],
        });
    }

    /// <summary>A new pending approval for a mesh call, waiting at most <paramref name="lifetime"/> (the agent's tool waits that long).</summary>
    public Approval AddMeshCall(string requestedBy, string? reason, MeshCallApproval call, TimeSpan lifetime)
    {
        ArgumentNullException.ThrowIfNull(call);
        return AddPending((id, now) => new Approval
        {
            Id = id,
            Kind = ApprovalKinds.MeshCall,
            CreatedAt = now,
            ExpiresAt = now + lifetime,
            State = ApprovalStates.Pending,
            RequestedBy = requestedBy,
            Reason = reason,
            Specs = [$"{call.DeviceId}.{call.Function}"],
            Packages = [],
            Call = call,
        });
    }

    /// <summary>A new pending approval for a plugin the plugin host staged (an admin user sent it over the mesh).</summary>
    public Approval AddPluginInstall(string requestedBy, PluginInstallApproval plugin)
    {
        ArgumentNullException.ThrowIfNull(plugin);
        if (!System.Text.RegularExpressions.Regex.IsMatch(plugin.Staged, "^[0-9a-f]{24}$"))
        {
            throw new RpcException(RpcErrorCodes.InvalidParams, "staged must be the plugin host's 24 hex digits");
        }
        return AddPending((id, now) => new Approval
        {
            Id = id,
            Kind = ApprovalKinds.PluginInstall,
            CreatedAt = now,
            ExpiresAt = now + Lifetime,
            State = ApprovalStates.Pending,
            RequestedBy = requestedBy,
            Reason = null,
            Specs = [$"plugin {plugin.PluginId} {plugin.Version} ({plugin.Digest})"],
            Packages = [],
            Plugin = plugin,
        });
    }

    // Makes the approval with a new id and the time now, and keeps it, unless MaxPending approvals already wait.
    private Approval AddPending(Func<string, DateTimeOffset, Approval> make)
    {
        Report(ExpireDue());
        lock (_gate)
        {
            if (_approvals.Count(a => a.State == ApprovalStates.Pending) >= MaxPending)
            {
                throw Full();
            }
            var approval = make(NewId(), _time.GetUtcNow());
            Save([.. _approvals, approval]);
            return approval;
        }
    }

    /// <summary>A mesh call's approval: pending → approved. Packages go through <see cref="BeginInstall"/> instead.</summary>
    public Approval ApproveCall(string id, string approvedBy) =>
        Decide(id, a => a.Kind == ApprovalKinds.MeshCall
            ? a with { State = ApprovalStates.Approved, DecidedAt = _time.GetUtcNow(), DecidedBy = approvedBy }
            : throw new InvalidOperationException($"approval {id} is for packages; they are installed, not just approved"));

    /// <summary>The approval once it is no longer pending (decided or expired), checking every <paramref name="poll"/>.</summary>
    public async Task<Approval> WaitDecidedAsync(string id, TimeSpan poll, CancellationToken cancellationToken)
    {
        while (true)
        {
            var current = Get(id);
            if (current.State != ApprovalStates.Pending)
            {
                return current;
            }
            await Task.Delay(poll, _time, cancellationToken);
        }
    }

    public Approval Get(string id)
    {
        Report(ExpireDue());
        lock (_gate)
        {
            return Find(id);
        }
    }

    /// <summary>Pending approvals (or all kept ones), oldest first.</summary>
    public IReadOnlyList<Approval> List(bool all)
    {
        Report(ExpireDue());
        lock (_gate)
        {
            return [.. _approvals.Where(a => all || a.State == ApprovalStates.Pending).OrderBy(a => a.CreatedAt)];
        }
    }

    /// <summary>pending → installing, recording who approved. Anything else (unknown, expired, decided) throws.</summary>
    public Approval BeginInstall(string id, string approvedBy) =>
        Decide(id, a => a with { State = ApprovalStates.Installing, DecidedAt = _time.GetUtcNow(), DecidedBy = approvedBy });

    /// <summary>pending → denied.</summary>
    public Approval Deny(string id, string deniedBy) =>
        Decide(id, a => a with { State = ApprovalStates.Denied, DecidedAt = _time.GetUtcNow(), DecidedBy = deniedBy });

    /// <summary>installing → installed (<paramref name="error"/> null) or failed.</summary>
    public Approval Finish(string id, string? error)
    {
        lock (_gate)
        {
            var current = Find(id);
            if (current.State != ApprovalStates.Installing)
            {
                throw new InvalidOperationException($"approval {id} is {current.State}, not installing");
            }
            var next = current with { State = error is null ? ApprovalStates.Installed : ApprovalStates.Failed, Error = error };
            Save([.. _approvals.Select(a => a.Id == id ? next : a)]);
            return next;
        }
    }

    private Approval Decide(string id, Func<Approval, Approval> change)
    {
        Report(ExpireDue());
        lock (_gate)
        {
            var current = Find(id);
            if (current.State != ApprovalStates.Pending)
            {
                throw new RpcException(RpcErrorCodes.Refused, current.State switch
                {
                    ApprovalStates.Expired => $"approval {id} expired at {current.ExpiresAt:u} without a decision; " +
                        (current.Kind switch
                        {
                            ApprovalKinds.MeshCall => "the agent has given up that call",
                            ApprovalKinds.PluginInstall => "send the plugin again",
                            _ => "request the packages again",
                        }),
                    _ => $"approval {id} is {current.State}{(current.DecidedBy is null ? "" : " (by " + current.DecidedBy + ")")}, not pending",
                });
            }
            var next = change(current);
            Save([.. _approvals.Select(a => a.Id == id ? next : a)]);
            return next;
        }
    }

    private List<Approval> ExpireDue()
    {
        var now = _time.GetUtcNow();
        return Update(a => a.State == ApprovalStates.Pending && now >= a.ExpiresAt, a => a with
        {
            State = ApprovalStates.Expired,
            DecidedAt = now,
            Error = $"nobody approved or denied it within {Lifetime.TotalHours:0.#} h",
        });
    }

    /// <summary>Applies <paramref name="change"/> to every approval matching <paramref name="which"/>, saves once, returns the changed ones.</summary>
    private List<Approval> Update(Func<Approval, bool> which, Func<Approval, Approval> change)
    {
        lock (_gate)
        {
            var changed = new List<Approval>();
            var next = _approvals.Select(a =>
            {
                if (!which(a))
                {
                    return a;
                }
                var updated = change(a);
                changed.Add(updated);
                return updated;
            }).ToList();
            if (changed.Count > 0)
            {
                Save(next);
            }
            return changed;
        }
    }

    private void Report(List<Approval> ended)
    {
        foreach (var a in ended)
        {
            _endedWithoutDecision(a);
        }
    }

    private Approval Find(string id) =>
        _approvals.FirstOrDefault(a => a.Id == id)
        ?? (IsValidId(id)
            ? throw new RpcException(RpcErrorCodes.NotFound, $"no approval {id} (see `boxbot approvals list --all`)")
            : throw new RpcException(RpcErrorCodes.InvalidParams, $"'{id}' is not an approval id: 8 characters of 0-9 and a-f, as `boxbot approvals list` shows it"));

    private string NewId()
    {
        while (true)
        {
            var id = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(4));
            if (!_approvals.Any(a => a.Id == id))
            {
                return id;
            }
        }
    }

    public static bool IsValidId(string? id) => id is { Length: 8 } && id.All(c => char.IsAsciiDigit(c) || c is >= 'a' and <= 'f');

    private static RpcException Full() =>
        new(RpcErrorCodes.Busy, $"{MaxPending} approvals are pending already; approve or deny some first (`boxbot approvals list`)");
}
