using System.Text.Json.Serialization;

namespace BoxBot.Sandbox.Internal;

/// <summary>
/// Everything the launcher (<c>boxbot-sandbox exec</c>, running inside the job's fresh PID, mount,
/// IPC, UTS and, for network "none", network namespaces created by <c>unshare</c>) needs to confine
/// one job and start its interpreter. The runner writes it as one length-prefixed JSON document
/// (<see cref="JobSpecFraming"/>) to the launcher's stdin; the launcher reads exactly that, then
/// points stdin at /dev/null, or, for a warm job (<see cref="WaitForGo"/>), leaves it to the
/// interpreter, whose bootstrap waits there for the go message. It is built by trusted code only
/// (the runner), never from a caller's raw input.
/// </summary>
internal sealed record JobSpec
{
    /// <summary>Job id (lowercase hex), for messages.</summary>
    [JsonPropertyName("job_id")] public required string JobId { get; init; }

    /// <summary>
    /// Host path of an empty folder the launcher mounts the job's workspace on (a tmpfs of <see cref="WorkspaceBytes"/>,
    /// owned by the job's uid, in the launcher's own mount namespace only); bound read-write at <see cref="WorkspaceInJob"/>.
    /// </summary>
    [JsonPropertyName("workspace_host")] public required string WorkspaceHost { get; init; }

    /// <summary>The workspace tmpfs's size.</summary>
    [JsonPropertyName("workspace_bytes")] public required long WorkspaceBytes { get; init; }

    /// <summary>The script, written as main.py into the fresh workspace; null for a warm job (the runner writes it at go).</summary>
    [JsonPropertyName("script")] public string? Script { get; init; }

    /// <summary>
    /// The runner is not root: unshare made a user namespace mapping only the runner's own uid and gid (the job's), and the
    /// launcher holds capabilities in it alone. It keeps that uid, drops the capabilities, and never calls setuid.
    /// </summary>
    [JsonPropertyName("user_namespace")] public bool UserNamespace { get; init; }

    /// <summary>
    /// Network "internet": the loopback port of the job's own network namespace where the launcher makes a listening socket
    /// and hands it to the runner, which relays each connection to the egress proxy. 0: no network at all.
    /// </summary>
    [JsonPropertyName("proxy_port")] public int ProxyPort { get; init; }

    /// <summary>Host path of an empty folder the launcher mounts the job's new root (a small tmpfs) on before pivot_root.</summary>
    [JsonPropertyName("root_host")] public required string RootHost { get; init; }

    /// <summary>Where the workspace appears inside the job.</summary>
    [JsonPropertyName("workspace_in_job")] public string WorkspaceInJob { get; init; } = "/workspace";

    /// <summary>Absolute path of the interpreter as seen inside the job (it lives under a read-only bind).</summary>
    [JsonPropertyName("interpreter")] public required string Interpreter { get; init; }

    /// <summary>argv, including argv[0] (e.g. ["python3", "-I", "-B", "/workspace/main.py"]).</summary>
    [JsonPropertyName("argv")] public required IReadOnlyList<string> Argv { get; init; }

    /// <summary>The job's whole environment (allowlist plus BOXBOT_SECRET_* for the secrets it named); nothing is inherited.</summary>
    [JsonPropertyName("env")] public required IReadOnlyDictionary<string, string> Environment { get; init; }

    /// <summary>Host paths bound read-only at the same path inside the job (interpreter, its libraries, venv, SDK).</summary>
    [JsonPropertyName("ro_binds")] public required IReadOnlyList<string> ReadOnlyBinds { get; init; }

    /// <summary>The job runs as this uid/gid; the launcher refuses 0. With <see cref="UserNamespace"/>, the launcher's own.</summary>
    [JsonPropertyName("uid")] public required uint Uid { get; init; }
    [JsonPropertyName("gid")] public required uint Gid { get; init; }

    /// <summary>RLIMIT_CPU seconds.</summary>
    [JsonPropertyName("cpu_seconds")] public required long CpuSeconds { get; init; }
    /// <summary>RLIMIT_AS bytes.</summary>
    [JsonPropertyName("address_space_bytes")] public required long AddressSpaceBytes { get; init; }
    /// <summary>
    /// The job's own cgroup(s), where the runner could make them: cgroup.procs files the launcher joins (writing "0")
    /// as root before anything else. Empty: no per-job cgroup, and <see cref="MaxTasks"/> is the job's task limit.
    /// </summary>
    [JsonPropertyName("cgroup_procs")] public IReadOnlyList<string> CgroupProcs { get; init; } = [];

    /// <summary>RLIMIT_NPROC (processes and threads of the job's uid, across all its jobs; with a per-job cgroup, pids.max is the job's own limit and this a backstop).</summary>
    [JsonPropertyName("max_tasks")] public required long MaxTasks { get; init; }
    /// <summary>RLIMIT_NOFILE; must be below <see cref="ExecFd"/>.</summary>
    [JsonPropertyName("max_open_files")] public required long MaxOpenFiles { get; init; }
    /// <summary>RLIMIT_FSIZE bytes (largest file the job may write).</summary>
    [JsonPropertyName("max_file_bytes")] public required long MaxFileBytes { get; init; }

    /// <summary>The descriptor number the pre-opened interpreter is moved to: above RLIMIT_NOFILE, so the job can never create it.</summary>
    [JsonPropertyName("exec_fd")] public int ExecFd { get; init; } = 100;

    /// <summary>
    /// Host path of the Unix socket the runner listens on for this job. The launcher connects to it once the workspace is
    /// mounted and before pivot_root, sends the handshake (<see cref="JobHandshake"/>: with the proxy listener, if any) and
    /// waits for the runner's answer: by then the runner holds the workspace. The connection then becomes the job's SDK
    /// channel at <see cref="SdkFd"/>, or is closed before the exec when <see cref="SdkToJob"/> is false.
    /// </summary>
    [JsonPropertyName("sdk_socket")] public required string SdkSocket { get; init; }

    /// <summary>Whether the job gets the SDK channel (BOXBOT_SDK_FD) after the handshake.</summary>
    [JsonPropertyName("sdk_to_job")] public bool SdkToJob { get; init; } = true;

    /// <summary>The descriptor the SDK connection is moved to (BOXBOT_SDK_FD); kept open across the exec.</summary>
    [JsonPropertyName("sdk_fd")] public int SdkFd { get; init; } = 3;

    /// <summary>Host folder bound read-only (and noexec) at <see cref="RuntimeInJob"/>, or null: the SDK runtime.</summary>
    [JsonPropertyName("runtime_host")] public string? RuntimeHost { get; init; }

    [JsonPropertyName("runtime_in_job")] public string RuntimeInJob { get; init; } = "/opt/boxbot/runtime";

    /// <summary>Host folder of the approved-packages venv bound read-only (nosuid, nodev) at <see cref="VenvInJob"/>, or null.</summary>
    [JsonPropertyName("venv_host")] public string? VenvHost { get; init; }

    [JsonPropertyName("venv_in_job")] public string VenvInJob { get; init; } = "/opt/boxbot/venv";

    /// <summary>A plugin's code folder, bound read-only (and noexec) at <see cref="PluginCodeInJob"/>, or null.</summary>
    [JsonPropertyName("plugin_code_host")] public string? PluginCodeHost { get; init; }

    [JsonPropertyName("plugin_code_in_job")] public string PluginCodeInJob { get; init; } = "/plugin";

    /// <summary>A plugin's own data folder, bound read-write (nosuid, nodev, noexec) at <see cref="PluginDataInJob"/>, or null.</summary>
    [JsonPropertyName("plugin_data_host")] public string? PluginDataHost { get; init; }

    [JsonPropertyName("plugin_data_in_job")] public string PluginDataInJob { get; init; } = "/data";

    /// <summary>
    /// A warm job: started before there is a job for it, fully confined, its bootstrap blocked reading stdin.
    /// The launcher leaves stdin open; the runner later writes the go message (the job's secrets and limits) and closes it.
    /// </summary>
    [JsonPropertyName("wait_for_go")] public bool WaitForGo { get; init; }
}

/// <summary>The spec on the launcher's stdin: a 4-byte big-endian length, then that many bytes of JSON.</summary>
internal static class JobSpecFraming
{
    public const int MaxSpecBytes = 4 * 1024 * 1024;

    public static byte[] Frame(byte[] json)
    {
        var framed = new byte[4 + json.Length];
        System.Buffers.Binary.BinaryPrimitives.WriteInt32BigEndian(framed, json.Length);
        json.CopyTo(framed, 4);
        return framed;
    }

    /// <summary>Reads one framed spec; throws <see cref="LaunchFailure"/> on a short read or a length out of range.</summary>
    public static byte[] Read(Stream stream)
    {
        Span<byte> header = stackalloc byte[4];
        ReadExactly(stream, header);
        var length = System.Buffers.Binary.BinaryPrimitives.ReadInt32BigEndian(header);
        if (length is <= 0 or > MaxSpecBytes)
        {
            throw new LaunchFailure($"spec length {length} is outside 1..{MaxSpecBytes} bytes");
        }
        var json = new byte[length];
        ReadExactly(stream, json);
        return json;
    }

    private static void ReadExactly(Stream stream, Span<byte> buffer)
    {
        try
        {
            stream.ReadExactly(buffer);
        }
        catch (EndOfStreamException)
        {
            throw new LaunchFailure("stdin ended before the whole spec arrived");
        }
    }
}

/// <summary>
/// What a warm job learns when its job arrives, on stdin, read by the SDK bootstrap before the script runs:
/// the job's own environment additions (its secrets), whether it has an SDK channel, and its address-space
/// limit (never above the one the launcher set, which was the configured maximum).
/// </summary>
internal sealed record GoMessage
{
    [JsonPropertyName("env")] public required IReadOnlyDictionary<string, string> Environment { get; init; }
    [JsonPropertyName("sdk")] public required bool Sdk { get; init; }
    [JsonPropertyName("address_space_bytes")] public required long AddressSpaceBytes { get; init; }
}

[JsonSerializable(typeof(JobSpec))]
[JsonSerializable(typeof(GoMessage))]
internal sealed partial class JobSpecJsonContext : JsonSerializerContext;
